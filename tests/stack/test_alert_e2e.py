"""An error burst on an instrumented service fires the SLO fast-burn alert, end to end.

Collector, Prometheus (the shared rules) and Alertmanager (the shared configuration) run as the
background stack of ``otel-ops up``; a FastAPI app instrumented with ``otel_ops.configure`` answers 500
to most requests. Of the rules in ``prometheus/rules/``, ``SLOErrorBudgetBurnFast`` (5xx ratio above
14.4x the budget of a 99.9% objective over 1h and 5m, ``for: 2m``) is the error alert that can fire
within a test: the slower burn-rate alerts hold for 15m and 1h. Prometheus evaluates every 5s here
(``--evaluation-interval``), so the alert fires about 2m15s after the first errors arrive.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ops.stack.processes import ManagedProcess
from tests.stack.conftest import Stack, free_ports, get_json, needs_stack, wait_for
from tests.support.services import uvicorn_app

pytestmark = [pytest.mark.slow, *needs_stack]

ALERT = "SLOErrorBudgetBurnFast"


def _error_service(stack: Stack, port: int, service_name: str) -> ManagedProcess:
    return uvicorn_app(
        "error_app:app",
        Path(__file__).parent,
        port,
        service_name,
        stack.otlp_http,
        stack.state / "logs" / "error-service.log",
    )


def _burst(base_url: str, stop: threading.Event, counts: dict[int, int]) -> None:
    """Nine failing requests for each good one, about 50 a second, until ``stop``."""
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        n = 0
        while not stop.is_set():
            path = "/ok" if n % 10 == 0 else "/fail"
            try:
                code = client.get(path).status_code
            except httpx.HTTPError:
                code = 0
            counts[code] = counts.get(code, 0) + 1
            n += 1
            time.sleep(0.02)


@pytest.fixture
def error_burst(stack_factory: Callable[..., Stack]) -> Iterator[tuple[Stack, str, dict[int, int]]]:
    stack = stack_factory("--no-sidecar", "--evaluation-interval", "5s", "--metrics-flush-interval", "2s")
    service_name = f"checkout-{uuid.uuid4().hex[:6]}"
    (port,) = free_ports(1)
    service = _error_service(stack, port, service_name)
    service.start()
    stop = threading.Event()
    counts: dict[int, int] = {}
    sender = threading.Thread(target=_burst, args=(f"http://127.0.0.1:{port}", stop, counts), daemon=True)
    try:
        service.wait_ready(30)
        sender.start()
        yield stack, service_name, counts
    finally:
        stop.set()
        sender.join(timeout=10)
        service.stop()


def _alerts_in_prometheus(stack: Stack, service_name: str) -> list[dict[str, Any]]:
    alerts = get_json(f"{stack.prometheus}/api/v1/alerts")["data"]["alerts"]
    return [
        a
        for a in alerts
        if a["labels"].get("alertname") == ALERT and a["labels"].get("service_name") == service_name
    ]


@pytest.mark.timeout(240)
def test_error_burst_fires_the_fast_burn_alert_into_alertmanager(
    error_burst: tuple[Stack, str, dict[int, int]],
) -> None:
    stack, service_name, counts = error_burst
    started = time.monotonic()

    # The burn rate is recorded from the shared rules once the service's 5xx series arrived.
    burn = wait_for(
        "the 5m burn rate of the service in Prometheus",
        lambda: get_json(
            f"{stack.prometheus}/api/v1/query?query=service:slo_burn_rate:rate5m"
            f"%7Bservice_name%3D%22{service_name}%22%7D"
        )["data"]["result"],
        timeout=60,
    )
    assert float(burn[0]["value"][1]) > 14.4, burn
    assert counts.get(500, 0) > 0 and counts.get(200, 0) > 0, counts

    pending = wait_for("the alert to be pending", lambda: _alerts_in_prometheus(stack, service_name), 30)
    assert pending[0]["state"] in {"pending", "firing"}, pending

    firing = wait_for(
        f"{ALERT} firing in Prometheus",
        lambda: [a for a in _alerts_in_prometheus(stack, service_name) if a["state"] == "firing"],
        timeout=170 - (time.monotonic() - started),
        interval=2.0,
    )
    assert firing[0]["labels"]["severity"] == "page", firing

    def in_alertmanager() -> list[dict[str, Any]]:
        alerts = get_json(f"{stack.alertmanager}/api/v2/alerts?filter=alertname%3D%22{ALERT}%22")
        return [a for a in alerts if a["labels"].get("service_name") == service_name]

    received = wait_for("the alert in Alertmanager's API", in_alertmanager, timeout=30)
    alert = received[0]
    assert alert["status"]["state"] == "active", alert
    assert alert["labels"]["severity"] == "page"
    assert alert["labels"]["alert_family"] == "slo_error_budget"
    assert service_name in alert["annotations"]["summary"]
