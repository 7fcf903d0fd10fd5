"""Health endpoints against a real Prometheus and Alertmanager, each up and down.

How long ``/health/detailed`` takes while a dependency hangs (bounded by the check timeout) is measured in
``bench/sidecar_timing.py``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ops.sidecar.health import Check, Outcome, Status
from otel_ops.sidecar.settings import SidecarSettings
from tests.collector.processes import Prometheus, free_port, wait_for
from tests.sidecar.servers import Alertmanager, Sidecar, read_events
from tests.support.stores import running_stores

pytest.register_assert_rewrite("tests.sidecar.conftest_backup")
from tests.sidecar.conftest_backup import PostgresServer  # noqa: E402

pytest_plugins = ["tests.sidecar.conftest_backup"]

DEAD = "http://127.0.0.1:{port}"


def settings_for(data_dir: Path, prometheus: str, alertmanager: str, **extra: Any) -> SidecarSettings:
    # Prometheus' own /-/healthy stands in for the collector's health_check extension (both: 200 when up).
    defaults: dict[str, Any] = {
        "port": free_port(),
        "data_dir": data_dir,
        "collector_health_url": f"{prometheus}/-/healthy",
        "prometheus_url": prometheus,
        "alertmanager_url": alertmanager,
        "check_cache_ttl": 0,
        "check_interval": 3600,
        "check_timeout": 2,
    }
    return SidecarSettings(**{**defaults, **extra})


def dead_url() -> str:
    return DEAD.format(port=free_port())


def entries(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    assert key in body["checks"], f"{key} missing from {sorted(body['checks'])}"
    return list(body["checks"][key])


def make_sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("create table t (x)")
        connection.executemany("insert into t values (?)", [(i,) for i in range(100)])
    return path


def test_all_dependencies_up(
    prometheus: Prometheus, alertmanager: Alertmanager, data_dir: Path, tmp_path: Path
) -> None:
    database = make_sqlite(tmp_path / "good.db")
    settings = settings_for(data_dir, prometheus.url, alertmanager.url, sqlite_paths=[database])
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        response = client.get("/health/detailed")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/health+json"
        body = response.json()
        assert body["status"] == "pass", body["notes"]
        for key in ("collector:health", "prometheus:ready", "alertmanager:ready", "disk:free"):
            [entry] = entries(body, key)
            assert entry["status"] == "pass"
            assert {"componentId", "componentType", "status", "time"} <= set(entry)
        [sqlite] = entries(body, "sqlite:integrity")
        assert sqlite == {**sqlite, "componentId": str(database), "observedValue": "ok", "status": "pass"}
        assert entries(body, "disk:free")[0]["observedUnit"] == "percent"
        assert client.get("/health/ready").json()["status"] == "pass"
        assert client.get("/health").json() == {**client.get("/health").json(), "status": "pass", "notes": []}
        metrics = client.get("/metrics").text
        assert (
            'otel_ops_health_check_status{check="prometheus:ready",component_id="prometheus"} 1.0' in metrics
        )


def test_critical_dependency_down_fails_with_503(
    alertmanager: Alertmanager, data_dir: Path, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.db"
    make_sqlite(corrupt)
    raw = bytearray(corrupt.read_bytes())
    raw[4096:8192] = b"\xff" * 4096  # the table's page
    corrupt.write_bytes(bytes(raw))
    settings = settings_for(
        data_dir, dead_url(), alertmanager.url, sqlite_paths=[corrupt, tmp_path / "none.db"]
    )
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        response = client.get("/health/detailed")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "fail"
        [prom] = entries(body, "prometheus:ready")
        assert prom["status"] == "fail" and "ConnectError" in prom["output"]
        assert entries(body, "alertmanager:ready")[0]["status"] == "pass"
        sqlite = {e["componentId"]: e for e in entries(body, "sqlite:integrity")}
        assert sqlite[str(corrupt)]["status"] == "fail"
        assert "does not exist" in sqlite[str(tmp_path / "none.db")]["output"]
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["status"] == "fail"
        assert "checks" not in ready.json()
        metrics = client.get("/metrics").text
        assert (
            'otel_ops_health_check_status{check="prometheus:ready",component_id="prometheus"} 0.0' in metrics
        )


def test_noncritical_failure_and_throwing_check_warn(
    prometheus: Prometheus, alertmanager: Alertmanager, data_dir: Path
) -> None:
    async def broken() -> Outcome:
        raise RuntimeError("probe exploded")

    async def hung() -> Outcome:  # a dependency that never answers
        await asyncio.Event().wait()
        return Outcome(Status.PASS)

    extra = [
        Check("custom:broken", "broken", "component", False, broken),
        Check("custom:hung", "hung", "component", False, hung),
    ]
    settings = settings_for(data_dir, prometheus.url, alertmanager.url, loki_url=dead_url())
    with Sidecar(settings, extra) as sidecar, sidecar.client() as client:
        response = client.get("/health/detailed")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "warn"
        [loki] = entries(body, "loki:ready")
        assert loki["status"] == "fail" and loki["critical"] is False
        [thrown] = entries(body, "custom:broken")
        assert thrown["status"] == "fail" and "RuntimeError: probe exploded" in thrown["output"]
        assert entries(body, "custom:hung")[0]["output"] == "timed out after 2s"
        assert client.get("/health/ready").status_code == 200


@pytest.mark.slow
def test_trace_and_log_stores_are_checked_and_only_degrade_when_down(
    prometheus: Prometheus, alertmanager: Alertmanager, data_dir: Path, tmp_path: Path
) -> None:
    with running_stores(tmp_path / "stores", with_collector=False) as stores:
        settings = settings_for(
            data_dir,
            prometheus.url,
            alertmanager.url,
            jaeger_url=stores.jaeger_url,
            victorialogs_url=stores.victorialogs_url,
        )
        with Sidecar(settings) as sidecar, sidecar.client() as client:
            body = client.get("/health/detailed").json()
            assert body["status"] == "pass", body
            assert entries(body, "jaeger:ready")[0]["status"] == "pass"
            assert entries(body, "victorialogs:ready")[0]["status"] == "pass"

            stores.stop("jaeger")
            response = client.get("/health/detailed")
            assert response.status_code == 200  # a store down degrades; the pipeline still takes data
            body = response.json()
            assert body["status"] == "warn"
            [jaeger] = entries(body, "jaeger:ready")
            assert jaeger["status"] == "fail" and jaeger["critical"] is False
            assert entries(body, "victorialogs:ready")[0]["status"] == "pass"


def test_sqlite_check_reads_the_named_file_even_with_uri_characters(
    prometheus: Prometheus, alertmanager: Alertmanager, data_dir: Path, tmp_path: Path
) -> None:
    corrupt = make_sqlite(tmp_path / "app#1.db")
    raw = bytearray(corrupt.read_bytes())
    raw[4096:8192] = b"\xff" * 4096
    corrupt.write_bytes(bytes(raw))
    settings = settings_for(data_dir, prometheus.url, alertmanager.url, sqlite_paths=[corrupt])
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        [entry] = entries(client.get("/health/detailed").json(), "sqlite:integrity")
    # The corrupt file itself was checked, not an empty database at a truncated path.
    assert entry["status"] == "fail", entry
    assert not (tmp_path / "app").exists()


def test_credentials_in_check_urls_never_show(
    prometheus: Prometheus, alertmanager: Alertmanager, data_dir: Path
) -> None:
    password, token = "Gr4fanaS3cret", "t0k3n" + "x" * 20
    grafana = f"http://admin:{password}@127.0.0.1:{free_port()}/?token={token}"
    state = {"status": Status.PASS}

    async def toggled() -> Outcome:  # a check whose failure output carries a URL with credentials
        return Outcome(state["status"], output=f"{grafana}: HTTP 401 unauthorized")

    settings = settings_for(data_dir, prometheus.url, alertmanager.url, grafana_url=grafana)
    toggle_check = Check("custom:toggle", "t", "component", False, toggled)
    with Sidecar(settings, [toggle_check]) as sidecar, sidecar.client() as client:
        detailed = client.get("/health/detailed").text
        with httpx.stream("GET", f"{sidecar.url}/events?types=health", timeout=10) as stream:
            lines = stream.iter_lines()
            assert next(lines) == ": connected"
            state["status"] = Status.FAIL
            client.get("/health/detailed")
            [event] = list(read_events(lines, 1))
    [entry] = entries(json.loads(detailed), "grafana:ready")
    assert entry["status"] == "fail" and "127.0.0.1" in entry["output"]  # still says where it looked
    assert event["check"] == "custom:toggle" and "HTTP 401" in event["output"]
    for shown in (detailed, json.dumps(event)):
        assert password not in shown and token not in shown


def test_postgres_unreachable_is_one_failed_entry_without_password(
    prometheus: Prometheus, alertmanager: Alertmanager, data_dir: Path
) -> None:
    dsn = f"postgresql://ops:s3cret-pw@127.0.0.1:{free_port()}/metrics"
    settings = settings_for(data_dir, prometheus.url, alertmanager.url, postgres_dsns=dsn)
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        response = client.get("/health/detailed")
        assert response.status_code == 503
        [entry] = entries(response.json(), "postgresql:responseTime")
        assert entry["status"] == "fail" and entry["componentId"].endswith("/metrics")
        assert "s3cret-pw" not in response.text


def test_postgres_up_passes_with_its_response_time(
    prometheus: Prometheus, alertmanager: Alertmanager, data_dir: Path, postgres_server: PostgresServer
) -> None:
    settings = settings_for(
        data_dir, prometheus.url, alertmanager.url, postgres_dsns=postgres_server.dsn("postgres")
    )
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        response = client.get("/health/detailed")
        assert response.status_code == 200, response.text
        [entry] = entries(response.json(), "postgresql:responseTime")
        assert entry["status"] == "pass", entry
        assert entry["componentId"] == f"127.0.0.1:{postgres_server.port}/postgres"
        assert entry["observedUnit"] == "ms" and entry["observedValue"] > 0


def test_live_never_runs_a_check(data_dir: Path) -> None:
    calls = 0

    async def counted() -> Outcome:
        nonlocal calls
        calls += 1
        return Outcome(Status.PASS)

    settings = settings_for(data_dir, dead_url(), dead_url())
    counted_check = Check("custom:counted", "c", "component", True, counted)
    with Sidecar(settings, [counted_check]) as sidecar, sidecar.client() as client:
        wait_for(lambda: calls, 10, "the health checks' run at start-up")
        before = calls
        for _ in range(20):
            response = client.get("/health/live")
            assert response.status_code == 200 and response.json()["status"] == "pass"
        assert calls == before
        client.get("/health/ready")
        assert calls == before + 1  # the counter does see checks that run


def test_status_changes_stream_as_events(
    prometheus: Prometheus, alertmanager: Alertmanager, data_dir: Path
) -> None:
    state = {"status": Status.PASS}

    async def toggled() -> Outcome:
        return Outcome(state["status"], output="toggled")

    settings = settings_for(data_dir, prometheus.url, alertmanager.url)
    toggle_check = Check("custom:toggle", "t", "component", True, toggled)
    with Sidecar(settings, [toggle_check]) as sidecar, sidecar.client() as client:
        assert client.get("/health/detailed").json()["status"] == "pass"
        with httpx.stream("GET", f"{sidecar.url}/events?types=health", timeout=10) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == ": connected"
            state["status"] = Status.FAIL
            assert client.get("/health/detailed").status_code == 503
            [event] = list(read_events(lines, 1))
    assert event == {
        **event,
        "type": "health",
        "check": "custom:toggle",
        "status": "fail",
        "previous": "pass",
    }


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_open_endpoints_have_health_media_type(path: str, data_dir: Path) -> None:
    settings = settings_for(data_dir, dead_url(), dead_url())
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        assert client.get(path).headers["content-type"] == "application/health+json"
