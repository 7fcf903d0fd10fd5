"""Which series an anomaly job follows: at most its ``max_series``, and not those long gone."""

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
from tests.sidecar.test_sidecar_jobs import DETECTOR, metric_value

NOISE = "vector(10 + ((time() * 7919) % 101) / 300)"


def shard(name: str, expression: str = NOISE) -> str:
    return f'label_replace({expression}, "shard", "{name}", "", "")'


def run_job(
    prometheus: Prometheus, alertmanager: Alertmanager, job: AnomalyJob, times: list[float]
) -> list[str]:
    """Run ``job`` once at each of ``times``; the sidecar's metrics after each run."""
    metrics = SidecarMetrics()
    exposed: list[str] = []

    async def run() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            runner = job_runner(job, prometheus.url, alertmanager.url, http, metrics)
            for now in times:
                await runner.run_once(job, now=now)
                exposed.append(generate_latest(metrics.registry).decode())
            runner.close()

    asyncio.run(run())
    return exposed


def test_a_job_scores_at_most_its_max_series_and_says_what_it_left_out(
    prometheus: Prometheus, alertmanager: Alertmanager, caplog: pytest.LogCaptureFixture
) -> None:
    query = " or ".join(shard(str(index)) for index in range(5))
    job = AnomalyJob(
        name="pods", query=query, interval_seconds=1, backfill_seconds=60, max_series=3, detector=DETECTOR
    )
    now = time.time()
    with caplog.at_level(logging.WARNING, logger="otel_ops.sidecar.jobs"):
        first, second = run_job(prometheus, alertmanager, job, [now, now + 5])

    for metrics in (first, second):
        assert metric_value(metrics, 'otel_ops_anomaly_job_series{job="pods"}') == 3
        assert metric_value(metrics, 'otel_ops_anomaly_job_series_refused{job="pods"}') == 2
        scored = [
            line for line in metrics.splitlines() if line.startswith('otel_ops_anomaly_score{job="pods"')
        ]
        assert [line.split('shard=\\"')[1][0] for line in scored] == ["0", "1", "2"], scored
    warnings = [r.getMessage() for r in caplog.records if "pods" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once, not on every run
    assert "returned 5 series; 2 not scored (max_series 3" in warnings[0], warnings[0]
    assert 'the first: {shard="3"}' in warnings[0] and "raise the job's max_series" in warnings[0]


def test_a_series_gone_for_a_day_is_forgotten(prometheus: Prometheus, alertmanager: Alertmanager) -> None:
    now = float(int(time.time()))
    gone_at = now - 2 * 86_400  # this series stopped two days ago; the other one goes on
    query = f"{shard('gone', f'{NOISE} and on() (vector(time()) < {gone_at})')} or {shard('stays')}"
    job = AnomalyJob(
        name="churn",
        query=query,
        interval_seconds=600,
        backfill_seconds=3 * 86_400,
        detector=DETECTOR,
    )
    first, second = run_job(prometheus, alertmanager, job, [now, now + 600])

    assert metric_value(first, 'otel_ops_anomaly_job_series{job="churn"}') == 2
    assert 'shard=\\"gone\\"' in first
    assert metric_value(second, 'otel_ops_anomaly_job_series{job="churn"}') == 1
    assert 'shard=\\"gone\\"' not in second and 'shard=\\"stays\\"' in second
