"""The sidecar gives back memory it freed: scoring a backfilled history must not leave the process at its
peak for good."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ops.sidecar.alerts.client import AlertmanagerClient
from otel_ops.sidecar.events import EventBus
from otel_ops.sidecar.jobs import AnomalyJob
from otel_ops.sidecar.jobs import runner as runner_module
from otel_ops.sidecar.jobs.runner import AnomalyJobRunner
from otel_ops.sidecar.memory import release_free_memory
from otel_ops.sidecar.metrics import SidecarMetrics
from tests.collector.processes import Prometheus
from tests.sidecar.servers import Alertmanager
from tests.sidecar.test_anomaly_job_series import NOISE, run_job
from tests.sidecar.test_sidecar_jobs import DETECTOR


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_freed_memory_between_live_allocations_goes_back_to_the_system() -> None:
    # 31 MB in blocks the C allocator serves (above CPython's small-object size), one in 64 kept alive:
    # the freed ones lie between live ones, where the allocator keeps them after ``free``.
    blocks = [bytearray(1000) for _ in range(32_000)]
    kept = blocks[::64]
    del blocks
    before = rss_mb()
    assert release_free_memory()
    released = before - rss_mb()
    assert released > 20, f"only {released:.1f} MB of about 30 MB freed went back to the system"
    assert len(kept) == 500


def test_a_run_that_scored_a_backfill_gives_its_memory_back(
    prometheus: Prometheus, alertmanager: Alertmanager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backfill (a day of one-minute points) is followed by a trim; the next run, a few points, is not:
    a trim walks the whole heap."""
    trims: list[float] = []
    monkeypatch.setattr(runner_module, "release_free_memory", lambda: trims.append(time.monotonic()))
    job = AnomalyJob(
        name="day",
        query=NOISE,
        interval_seconds=60,
        step_seconds=60,
        backfill_seconds=86_400,
        detector=DETECTOR,
    )
    now = float(int(time.time()))
    first, second = run_job(prometheus, alertmanager, job, [now, now + 120])
    assert 'otel_ops_anomaly_score{job="day"' in first and 'otel_ops_anomaly_score{job="day"' in second
    assert len(trims) == 1, trims


def test_long_histories_are_fetched_one_at_a_time_and_short_runs_go_on_meanwhile(
    prometheus: Prometheus, alertmanager: Alertmanager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs starting together fetch their backfills in turn (each held in memory until scored), while the
    runs of jobs that only fetch their last few points are not held up behind them."""
    active = {"long": 0, "short": 0}
    most = {"long": 0, "short": 0, "short while long": 0}
    fetch = runner_module.AnomalyJobRunner._fetch_and_score

    async def watched(self: Any, job: AnomalyJob, state: Any, start: float, end: float) -> Any:
        kind = "long" if (end - start) / job.step >= runner_module.SCORING_CHUNK_POINTS else "short"
        active[kind] += 1
        most[kind] = max(most[kind], active[kind])
        if kind == "short" and active["long"]:
            most["short while long"] += 1
        try:
            await asyncio.sleep(0.05)  # the query in flight: room for the others to start theirs
            return await fetch(self, job, state, start, end)
        finally:
            active[kind] -= 1

    monkeypatch.setattr(runner_module.AnomalyJobRunner, "_fetch_and_score", watched)
    backfilling = [
        AnomalyJob(
            name=f"backfill{i}", query=NOISE, step_seconds=60, backfill_seconds=86_400, detector=DETECTOR
        )
        for i in range(3)
    ]
    following = [
        AnomalyJob(name=f"follow{i}", query=NOISE, step_seconds=60, backfill_seconds=300, detector=DETECTOR)
        for i in range(3)
    ]
    now = float(int(time.time()))

    async def run() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            runner = AnomalyJobRunner(
                [*backfilling, *following],
                prometheus_url=prometheus.url,
                alertmanager=AlertmanagerClient(alertmanager.url, http),
                http=http,
                metrics=SidecarMetrics(),
                events=EventBus(),
            )
            await asyncio.gather(*(runner.run_once(job, now=now) for job in [*backfilling, *following]))
            runner.close()

    asyncio.run(run())
    assert most["long"] == 1, most
    assert most["short"] >= 2 and most["short while long"] >= 1, most
