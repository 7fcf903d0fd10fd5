"""Ops sidecar timing: health answers while a dependency hangs, and anomaly jobs run on their interval,
each against a baseline measured in the same run.

    .venv/bin/python -m bench.sidecar_timing [--requests 10] [--job-seconds 20]

The sidecar app runs in this process under uvicorn (as in its tests), with health checks uncached. The
first ``/health/detailed`` request of each case is not timed: it waits for the health run at start-up.

1. Health: ``/health/detailed`` with every dependency refusing connections (the baseline: checks fail at
   once), then with Prometheus accepting connections and never answering (its check runs into the check
   timeout, 2 s): one request at a time, ``--requests`` at once (and how many rounds of checks they
   started), and one sent while another request's round waits; ``/health/live``
   idle (baseline) and while ``/health/detailed`` requests wait on the hung
   Prometheus. Targets: detailed answers within the check timeout plus a little; live does not wait.
2. Anomaly job cadence: one job (``interval_seconds: 1``, a steady series) against a real Prometheus; the
   time between the starts of consecutive runs, against a bare asyncio loop sleeping the same interval in
   this process at the same time. A job sleeps its interval after each run, so its period is the interval
   plus the run's own time.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from otel_ops.sidecar.jobs import AnomalyJobRunner
from otel_ops.sidecar.settings import SidecarSettings
from tests.collector.processes import start_prometheus
from tests.sidecar.hanging_server import HangingServer
from tests.sidecar.servers import Sidecar
from tests.support.ports import free_port

INTERVAL_S = 1.0


def latencies(url: str, count: int) -> list[float]:
    timings = []
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            start = time.perf_counter()
            client.get(url)
            timings.append(time.perf_counter() - start)
    return timings


def concurrent_latencies(url: str, count: int) -> list[float]:
    """``count`` requests sent at once (one thread each); each one's latency."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: latencies(url, 1)[0], range(count)))


def joining_latency(url: str, hung: HangingServer, count: int) -> list[float]:
    """Latency of a request sent while another request's round waits on ``hung`` (``count`` times)."""
    timings = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        for _ in range(count):
            asked = hung.requests
            first = pool.submit(latencies, url, 1)
            while hung.requests == asked:  # until the first request's round waits on the hung dependency
                time.sleep(0.01)
            timings.extend(latencies(url, 1))
            first.result()
    return timings


def live_while_detailed_waits(url: str, hung: HangingServer, count: int) -> list[float]:
    """``/health/live`` latencies while ``/health/detailed`` requests keep waiting on ``hung``."""
    stop = threading.Event()

    def keep_detailed_busy() -> None:
        while not stop.is_set():
            latencies(f"{url}/health/detailed", 1)

    asked = hung.requests
    busy = threading.Thread(target=keep_detailed_busy)
    busy.start()
    try:
        while hung.requests == asked:  # until a check waits on the hung dependency
            time.sleep(0.01)
        return latencies(f"{url}/health/live", count)
    finally:
        stop.set()
        busy.join()


def health(data: Path, requests: int) -> tuple[dict[str, list[float]], int]:
    """Latencies per case, and how many rounds of checks the concurrent requests started."""
    refused = f"http://127.0.0.1:{free_port()}"  # claimed, nothing listens
    hung_server = HangingServer()
    rounds = 0
    hung = hung_server.url
    results: dict[str, list[float]] = {}
    try:
        for name, prometheus in (("refused", refused), ("hung", hung)):
            settings = SidecarSettings(
                port=free_port(),
                data_dir=data / name,
                collector_health_url=refused,
                prometheus_url=prometheus,
                alertmanager_url=refused,
                check_cache_ttl=0,
                check_interval=3600,
            )
            with Sidecar(settings) as sidecar:
                if name == "refused":
                    results["live idle"] = latencies(f"{sidecar.url}/health/live", requests * 10)
                # Not timed: the first request waits for the health run at start-up to finish.
                latencies(f"{sidecar.url}/health/detailed", 1)
                results[f"detailed {name}"] = latencies(f"{sidecar.url}/health/detailed", requests)
                if name == "hung":
                    asked = hung_server.requests
                    results["detailed concurrent"] = concurrent_latencies(
                        f"{sidecar.url}/health/detailed", requests
                    )
                    rounds = hung_server.requests - asked
                    results["detailed joining"] = joining_latency(
                        f"{sidecar.url}/health/detailed", hung_server, requests
                    )
                    results["live hung"] = live_while_detailed_waits(sidecar.url, hung_server, requests * 10)
    finally:
        hung_server.close()
    return results, rounds


def record_run_starts(starts: list[float]) -> Callable[[], None]:
    """Records when each anomaly job run starts; returns a function that undoes it."""
    original = AnomalyJobRunner.run_once

    async def run_once(self: AnomalyJobRunner, *args: Any, **kwargs: Any) -> Any:
        starts.append(time.monotonic())
        return await original(self, *args, **kwargs)

    AnomalyJobRunner.run_once = run_once  # type: ignore[method-assign]
    return lambda: setattr(AnomalyJobRunner, "run_once", original)


def bare_loop_ticks(seconds: float) -> list[float]:
    async def loop() -> list[float]:
        ticks: list[float] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ticks.append(time.monotonic())
            await asyncio.sleep(INTERVAL_S)
        return ticks

    return asyncio.run(loop())


def job_cadence(data: Path, seconds: float) -> tuple[list[float], list[float]]:
    prometheus = start_prometheus(data / "prometheus")
    jobs = data / "jobs.json"
    job = {"name": "steady", "query": "vector(10 + (time() % 7) / 3)", "interval_seconds": INTERVAL_S}
    jobs.write_text(json.dumps({"jobs": [job]}))
    starts: list[float] = []
    undo = record_run_starts(starts)
    bare: list[float] = []
    try:
        settings = SidecarSettings(
            port=free_port(),
            data_dir=data / "jobs",
            prometheus_url=prometheus.url,
            alertmanager_url=f"http://127.0.0.1:{free_port()}",
            anomaly_jobs_file=jobs,
            check_interval=3600,
        )
        with Sidecar(settings):
            baseline = threading.Thread(target=lambda: bare.extend(bare_loop_ticks(seconds)))
            baseline.start()
            baseline.join()
    finally:
        undo()
        prometheus.process.stop()
    periods = [b - a for a, b in itertools.pairwise(starts[1:])]  # the first run scores the backfill
    bare_periods = [b - a for a, b in itertools.pairwise(bare)]
    return periods, bare_periods


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=10, help="/health/detailed requests per case")
    parser.add_argument("--job-seconds", type=float, default=20, help="how long the job cadence is watched")
    args = parser.parse_args()
    logging.getLogger("otel_ops.sidecar").setLevel(logging.ERROR)  # "no API token configured": expected

    with tempfile.TemporaryDirectory(prefix="otel-ops-bench-") as tmp:
        data = Path(tmp)
        timings, rounds = health(data, args.requests)
        periods, bare_periods = job_cadence(data, args.job_seconds)

    timeout = SidecarSettings.model_fields["check_timeout"].default
    detailed_base = statistics.median(timings["detailed refused"])
    live_base = statistics.median(timings["live idle"])
    rows = [
        ("`/health/detailed`", "all refusing connections (baseline)", "detailed refused", detailed_base),
        ("`/health/detailed`", "Prometheus accepting, never answering", "detailed hung", detailed_base),
        (
            f"`/health/detailed`, {args.requests} at once ({rounds} round(s) of checks)",
            "Prometheus never answering",
            "detailed concurrent",
            detailed_base,
        ),
        (
            "`/health/detailed` while another request's round waits",
            "Prometheus never answering",
            "detailed joining",
            detailed_base,
        ),
        ("`/health/live`", "idle (baseline)", "live idle", live_base),
        ("`/health/live`", "while `/health/detailed` waits on the hung Prometheus", "live hung", live_base),
    ]
    print(f"\n### Health endpoints (check timeout {timeout:g} s, results not cached)")
    print("| request | dependencies | requests | median | max | ratio to baseline (median) | max / timeout |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for request, case, key, base in rows:
        values = timings[key]
        median = statistics.median(values)
        print(
            f"| {request} | {case} | {len(values)} | {median * 1000:.1f} ms | {max(values) * 1000:.1f} ms | "
            f"{median / base:.2f}x | {max(values) / timeout:.2f} |"
        )

    job_median, bare_median = statistics.median(periods), statistics.median(bare_periods)
    print(f"\n### Anomaly job cadence (interval {INTERVAL_S:g} s, {args.job_seconds:g} s watched)")
    print("| loop | periods | median | p95 | max | median / interval | ratio to bare loop (median) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, values, ratio in (
        ("bare asyncio loop (baseline)", bare_periods, 1.0),
        ("anomaly job (query_range + scoring)", periods, job_median / bare_median),
    ):
        median = statistics.median(values)
        print(
            f"| {name} | {len(values)} | {median:.3f} s | {p95(values):.3f} s | {max(values):.3f} s | "
            f"{median / INTERVAL_S:.3f}x | {ratio:.3f}x |"
        )


if __name__ == "__main__":
    main()
