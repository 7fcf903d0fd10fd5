"""Concurrent health requests share one round of checks, against a real dependency that hangs.

The hanging dependency (a local HTTP server that reads requests and never answers) stands in for
Prometheus; the collector and Alertmanager refuse connections. Each request it receives is one round of
checks. Rounds here end when the test drops the held connections (the check timeout is far away), so which
round a request joined never depends on timing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ops.sidecar.health import Check, Outcome, Status
from otel_ops.sidecar.settings import SidecarSettings
from tests.collector.processes import free_port, wait_for
from tests.sidecar.hanging_server import HangingServer
from tests.sidecar.servers import Sidecar

PROMETHEUS_STATUS = 'otel_ops_health_check_status{check="prometheus:ready",component_id="prometheus"}'


def refused_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def settings_for(data_dir: Path, prometheus: str, **extra: Any) -> SidecarSettings:
    defaults: dict[str, Any] = {
        "port": free_port(),
        "data_dir": data_dir,
        "collector_health_url": refused_url(),
        "prometheus_url": prometheus,
        "alertmanager_url": refused_url(),
        "check_cache_ttl": 0,
        "check_interval": 3600,  # one background round, at start-up
        "check_timeout": 60,  # rounds end when the hanging server lets go, not by the timeout
    }
    return SidecarSettings(**{**defaults, **extra})


@pytest.fixture
def hanging() -> Iterator[HangingServer]:
    with HangingServer() as server:
        yield server


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=20) as executor:
        yield executor


def send(pool: ThreadPoolExecutor, sidecar: Sidecar, path: str) -> Future[httpx.Response]:
    return pool.submit(httpx.get, f"{sidecar.url}{path}", timeout=30)


def wait_until_in_flight(sidecar: Sidecar, count: int) -> None:
    """Until the sidecar is handling ``count`` requests (uvicorn's own count of request tasks)."""
    state = sidecar.server.server_state
    wait_for(lambda: len(state.tasks) >= count, 15, f"{count} requests in the sidecar", 0.02)


def finish_startup_round(sidecar: Sidecar, hanging: HangingServer) -> None:
    """Lets the background round at start-up end (Prometheus disconnects) and waits for its results."""
    hanging.wait_for_requests(1)
    hanging.release()
    with sidecar.client() as client:
        wait_for(lambda: PROMETHEUS_STATUS in client.get("/metrics").text, 15, "the start-up round", 0.05)


def test_concurrent_requests_start_one_round(
    hanging: HangingServer, pool: ThreadPoolExecutor, data_dir: Path
) -> None:
    with Sidecar(settings_for(data_dir, hanging.url)) as sidecar:
        finish_startup_round(sidecar, hanging)
        assert hanging.requests == 1

        futures = [send(pool, sidecar, "/health/detailed") for _ in range(20)]
        hanging.wait_for_requests(2)
        wait_until_in_flight(sidecar, 20)
        hanging.release()
        bodies = [future.result().json() for future in futures]

        assert hanging.requests == 2  # one round for the twenty requests
        assert all(body["checks"] == bodies[0]["checks"] for body in bodies)  # its results, times included
        [prometheus] = bodies[0]["checks"]["prometheus:ready"]
        assert prometheus["status"] == "fail" and "timed out" not in prometheus["output"]


def test_requests_during_the_background_round_get_its_results(
    hanging: HangingServer, pool: ThreadPoolExecutor, data_dir: Path
) -> None:
    with Sidecar(settings_for(data_dir, hanging.url)) as sidecar, sidecar.client() as client:
        hanging.wait_for_requests(1)  # the background round at start-up waits on Prometheus
        paths = ("/health/detailed", "/health", "/health/ready")
        futures = {path: send(pool, sidecar, path) for path in paths}
        wait_until_in_flight(sidecar, len(futures))

        live = client.get("/health/live")  # answered while the round still hangs
        assert live.status_code == 200 and live.json()["status"] == "pass"

        hanging.release()
        responses = {path: future.result() for path, future in futures.items()}
        assert hanging.requests == 1  # no request started a round of its own
        assert {path: r.status_code for path, r in responses.items()} == dict.fromkeys(futures, 503)
        [prometheus] = responses["/health/detailed"].json()["checks"]["prometheus:ready"]
        assert prometheus["status"] == "fail" and "timed out" not in prometheus["output"]
        assert any(note.startswith("prometheus:ready") for note in responses["/health"].json()["notes"])
        wait_for(lambda: "otel_ops_health_status 0.0" in client.get("/metrics").text, 15, "overall status")
        # the round's end is stamped, so a stalled round shows (SidecarHealthRoundsStalled)
        [stamp] = [
            line
            for line in client.get("/metrics").text.splitlines()
            if line.startswith("otel_ops_health_round_timestamp_seconds ")
        ]
        assert abs(time.time() - float(stamp.split()[1])) < 60


def test_detailed_during_a_ready_round_runs_only_the_checks_it_does_not_cover(
    hanging: HangingServer, pool: ThreadPoolExecutor, data_dir: Path
) -> None:
    with Sidecar(settings_for(data_dir, hanging.url)) as sidecar:
        finish_startup_round(sidecar, hanging)
        ready = send(pool, sidecar, "/health/ready")  # a round of the critical checks
        hanging.wait_for_requests(2)
        detailed = send(pool, sidecar, "/health/detailed")
        wait_until_in_flight(sidecar, 2)
        hanging.release()

        assert ready.result().status_code == 503
        body = detailed.result().json()
        assert hanging.requests == 2  # Prometheus was asked once, for both
        assert body["checks"]["memory:utilization"][0]["critical"] is False  # non-critical ones ran too
        [prometheus] = body["checks"]["prometheus:ready"]
        assert prometheus["status"] == "fail" and "timed out" not in prometheus["output"]


def test_a_check_that_ignores_cancellation_is_reported_at_the_timeout(data_dir: Path) -> None:
    stop = threading.Event()
    started = 0

    async def stubborn() -> Outcome:  # a check that keeps running when cancelled at its timeout
        nonlocal started
        started += 1
        while not stop.is_set():
            try:
                await asyncio.sleep(0.02)
            except asyncio.CancelledError:
                continue
        return Outcome(Status.PASS)

    settings = settings_for(data_dir, refused_url(), check_timeout=1)
    stubborn_check = Check("custom:stubborn", "stubborn", "component", False, stubborn)
    try:
        with Sidecar(settings, [stubborn_check]) as sidecar, sidecar.client() as client:
            for _ in range(3):
                response = client.get("/health/detailed")  # answers although the check never stopped
                assert response.status_code == 503
                [entry] = response.json()["checks"]["custom:stubborn"]
                assert entry["status"] == "fail" and entry["output"].startswith("timed out after 1s")
            assert started == 1  # never a second copy while the first still runs
    finally:
        stop.set()
