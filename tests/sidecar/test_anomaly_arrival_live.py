"""A live anomaly job scores a Prometheus series with gaps and non-finite points, and says what was odd."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest
from prometheus_client import generate_latest

from otel_ops.sidecar.jobs import AnomalyJob
from otel_ops.sidecar.metrics import SidecarMetrics
from tests.collector.processes import Prometheus
from tests.sidecar.servers import Alertmanager, job_runner

DETECTOR = {
    "seasonal": None,
    "spike": {"calibration": {"warmup_points": 16, "history_points": 32}, "error_points": 16},
}
# Absent 20 s of every minute (a gap), and +Inf 5 s of every 30 s (division by zero): 240 one-second points.
QUERY = "(vector(10 + (time() % 7) / 3) / (time() % 30 >= bool 5)) and on() (vector(time() % 60) >= 20)"


def test_live_job_scores_through_gaps_and_non_finite_points(
    prometheus: Prometheus, alertmanager: Alertmanager, caplog: pytest.LogCaptureFixture
) -> None:
    job = AnomalyJob(name="gappy", query=QUERY, interval_seconds=1, backfill_seconds=240, detector=DETECTOR)
    metrics = SidecarMetrics()

    async def run() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            runner = job_runner(job, prometheus.url, alertmanager.url, http, metrics)
            await runner.run_once(job, now=time.time())

    with caplog.at_level(logging.WARNING, logger="otel_ops.sidecar.jobs"):
        asyncio.run(run())

    warnings = [r.getMessage() for r in caplog.records if "gappy" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "gap 4" in warnings[0] or "gap 3" in warnings[0], warnings[0]
    assert "missing_value" in warnings[0] and "points_missing_in_gaps" in warnings[0]
    assert "about" in warnings[0] and "points missing" in warnings[0]
    exported = generate_latest(metrics.registry).decode()
    assert 'otel_ops_anomaly_score{job="gappy",series="{}"}' in exported
