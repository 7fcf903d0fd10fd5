"""The backup HTTP API, metrics and scheduled jobs, with a real restic repository."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from otel_ops.sidecar.backup import (
    BackupMetrics,
    BackupService,
    BackupSettings,
    add_backup_jobs,
    run_configured_backups,
    run_restore_drill,
)
from otel_ops.sidecar.backup.api import get_backup_service, router

pytest.register_assert_rewrite("tests.sidecar.conftest_backup")
from tests.sidecar.conftest_backup import make_settings  # noqa: E402

pytest_plugins = ["tests.sidecar.conftest_backup"]


@pytest.fixture
def client(service: BackupService) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[get_backup_service] = lambda: service
    return TestClient(app)


def test_api_creates_lists_and_verifies_backups(client: TestClient, service: BackupService) -> None:
    assert client.get("/api/v1/backups").json() == {"snapshots": []}

    created = client.post("/api/v1/backups", json={"sources": ["config"]})
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["ok"] is True
    [result] = body["results"]
    assert result["source"] == "config" and result["files"] > 0

    [listed] = client.get("/api/v1/backups").json()["snapshots"]
    assert listed["short_id"] == result["snapshot_id"]
    assert listed["source"] == "config" and listed["kind"] == "config"

    verified = client.post(f"/api/v1/backups/{listed['id']}/verify")
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"ok": True, "repository_check": "ok", "problems": []}

    metrics = generate_latest(service.metrics.registry).decode()
    assert 'otel_ops_backup_last_success_timestamp_seconds{source="config"}' in metrics
    assert "otel_ops_backup_last_verify_success_timestamp_seconds " in metrics


def test_api_errors_have_status_codes(client: TestClient) -> None:
    unknown = client.post("/api/v1/backups", json={"sources": ["nope"]})
    assert unknown.status_code == 400
    assert "unknown backup source" in unknown.json()["detail"]
    missing = client.post("/api/v1/backups/0123abcd/verify")
    assert missing.status_code == 404


def test_api_reports_an_uninitialised_repository(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, password="pw")
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[get_backup_service] = lambda: BackupService(settings, metrics=BackupMetrics())
    response = TestClient(app).get("/api/v1/backups")
    assert response.status_code == 409
    assert "otel-ops backup init" in response.json()["detail"]


def test_metrics_record_success_and_failure_per_source(service: BackupService, tmp_path: Path) -> None:
    service.settings.sqlite["broken"] = tmp_path / "does-not-exist.db"
    before = time.time()
    results = {r.source: r for r in service.create()}
    assert results["config"].ok
    assert not results["sqlite:broken"].ok and "does not exist" in (results["sqlite:broken"].error or "")

    registry = service.metrics.registry
    success = registry.get_sample_value(
        "otel_ops_backup_last_success_timestamp_seconds", {"source": "config"}
    )
    failure = registry.get_sample_value(
        "otel_ops_backup_last_failure_timestamp_seconds", {"source": "sqlite:broken"}
    )
    assert success is not None and success >= before
    assert failure is not None and failure >= before
    assert registry.get_sample_value("otel_ops_backup_size_bytes", {"source": "config"}) > 0
    assert (
        registry.get_sample_value(
            "otel_ops_backup_last_success_timestamp_seconds", {"source": "sqlite:broken"}
        )
        is None
    )

    fresh = BackupMetrics()  # after a restart, last success comes from the repository
    BackupService(service.settings, metrics=fresh).list()
    seeded = fresh.registry.get_sample_value(
        "otel_ops_backup_last_success_timestamp_seconds", {"source": "config"}
    )
    assert seeded is not None and abs(seeded - success) < 5


def test_scheduled_jobs_run_backups_and_drill(backup_settings: BackupSettings) -> None:
    results = run_configured_backups(backup_settings)
    assert [(r.source, r.ok) for r in results] == [("config", True)]
    drill = run_restore_drill(backup_settings)
    assert [(r.source, r.ok) for r in drill] == [("config", True)]

    scheduler = BackgroundScheduler()
    add_backup_jobs(scheduler, backup_settings)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"otel-ops-backup", "otel-ops-backup-drill", "otel-ops-backup-retention"}
    assert str(jobs["otel-ops-backup"].trigger) == str(CronTrigger.from_crontab(backup_settings.schedule))


def test_scheduled_backup_logs_instead_of_raising(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, restic_binary="/nonexistent/restic")
    assert run_configured_backups(settings) == []
    assert "restic not found" in caplog.text


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OTEL_OPS_BACKUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OTEL_OPS_BACKUP_SQLITE", '{"app": "/var/lib/app.db"}')
    monkeypatch.setenv("OTEL_OPS_BACKUP_KEEP_DAILY", "3")
    settings = BackupSettings()
    assert settings.repository_location == str(tmp_path / "repository")
    assert settings.password_path == tmp_path / "restic-password"
    assert settings.sqlite == {"app": Path("/var/lib/app.db")}
    assert (settings.keep_daily, settings.keep_weekly, settings.keep_monthly) == (3, 4, 6)
