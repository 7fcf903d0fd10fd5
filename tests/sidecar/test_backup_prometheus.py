"""Prometheus TSDB backups against a real Prometheus: admin snapshot copied off, restored, queried again."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otel_ops.sidecar.backup import BackupMetrics, BackupService, BackupSettings, RestoreRefused
from otel_ops.sidecar.backup.manifest import Manifest
from otel_ops.sidecar.backup.sources import tsdb_probe
from otel_ops.sidecar.backup.sources.prometheus import PrometheusSource

pytest.register_assert_rewrite("tests.sidecar.conftest_backup")
from tests.sidecar.conftest_backup import PrometheusServer, make_settings  # noqa: E402

pytest_plugins = ["tests.sidecar.conftest_backup"]

QUERIES = ('sum by (__name__) ({__name__=~".+"})', "up", "prometheus_tsdb_head_series")


def answers(server: PrometheusServer, start: float, end: float) -> dict[str, Any]:
    return {
        query: sorted(
            server.api("/api/v1/query_range", query=query, start=start, end=end, step=1)["result"],
            key=lambda s: sorted(s["metric"].items()),
        )
        for query in QUERIES
    }


@pytest.fixture
def prometheus_service(
    prometheus_server: PrometheusServer, tmp_path: Path, new_repository: Callable[[BackupSettings], None]
) -> BackupService:
    settings = make_settings(
        tmp_path, prometheus_url=prometheus_server.url, prometheus_data_dir=prometheus_server.data_dir
    )
    new_repository(settings)
    return BackupService(settings, metrics=BackupMetrics())


def test_restored_tsdb_answers_queries_like_the_live_prometheus(
    prometheus_service: BackupService, prometheus_server: PrometheusServer, tmp_path: Path
) -> None:
    end = time.time() - 1.5  # samples up to here are all in the head before the snapshot is taken
    start = end - 5
    live = answers(prometheus_server, start, end)
    assert live["up"] and len(live["up"][0]["values"]) >= 4

    [result] = prometheus_service.create(["prometheus"])
    assert result.ok, result.error
    assert not list((prometheus_server.data_dir / "snapshots").iterdir())  # the hard-linked copy is gone

    target = tmp_path / "restored-tsdb"
    restored = prometheus_service.restore("latest", str(target), source="prometheus")
    assert restored.ok
    with tsdb_probe.prometheus_on(target, "prometheus") as url:
        restored_server = PrometheusServer(url, target)
        assert answers(restored_server, start, end) == live


@pytest.mark.parametrize("damage", ["chunks emptied", "answers differ"])
def test_restore_refuses_a_tsdb_that_does_not_answer_as_backed_up(
    prometheus_service: BackupService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    [result] = prometheus_service.create(["prometheus"])
    assert result.ok, result.error

    real_check = PrometheusSource.check

    def damaged_check(
        self: PrometheusSource, restored: Path, manifest: Manifest, target: str | None
    ) -> list[str]:
        if damage == "chunks emptied":
            for chunk in (restored / "tsdb").glob("*/chunks/*"):
                chunk.write_bytes(b"")
        else:
            query = next(iter(manifest.details["fingerprint"]["queries"]))
            manifest.details["fingerprint"]["queries"][query]["sha256"] = "0" * 64
        return real_check(self, restored, manifest, target)

    monkeypatch.setattr(PrometheusSource, "check", damaged_check)
    target = tmp_path / "never-written"
    expected = "cannot be queried" if damage == "chunks emptied" else "answers differ"
    with pytest.raises(RestoreRefused, match=expected):
        prometheus_service.restore(result.snapshot_id or "", str(target))
    assert not target.exists()
