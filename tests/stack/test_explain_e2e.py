"""``otel-ops explain`` on the whole native stack of ``otel-ops up``.

An error burst on an instrumented checkout service fires the real ``SLOErrorBudgetBurnFast`` alert (the
approach of ``test_alert_e2e``); ``otel-ops explain SLOErrorBudgetBurnFast --json`` then names the failing
route, a trace id that Jaeger returns, that trace's log lines from VictoriaLogs and the error fingerprint;
the sidecar's webhook recorded the alert's exemplar trace and top error for ``otel-ops alerts list``; and
after ``otel-ops down`` and ``up`` on the same state directory the same trace is still explained.
A client that sends its own ``traceparent`` finds its trace and logs with ``otel-ops explain --trace``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ops.stack.processes import ManagedProcess
from tests.stack.conftest import Stack, cli, free_ports, get_json, needs_stack, up_args, wait_for
from tests.support.services import uvicorn_app

pytestmark = [pytest.mark.slow, *needs_stack]

ALERT = "SLOErrorBudgetBurnFast"
ROUTE = "/checkout/{order_id}"
APP_DIR = Path(__file__).parents[1] / "explain"


def _checkout_service(stack: Stack, service_name: str) -> tuple[ManagedProcess, str]:
    (port,) = free_ports(1)
    log = stack.state / "logs" / "checkout-service.log"
    service = uvicorn_app("checkout_app:app", APP_DIR, port, service_name, stack.otlp_http, log)
    return service, f"http://127.0.0.1:{port}"


@pytest.fixture
def running_service(stack_factory: Callable[..., Stack]) -> Iterator[Callable[..., tuple[Stack, str, str]]]:
    """Start a stack (extra ``otel-ops up`` args) and the checkout service on it."""
    services: list[ManagedProcess] = []

    def start(*up: str) -> tuple[Stack, str, str]:
        stack = stack_factory(*up)
        service_name = f"checkout-{uuid.uuid4().hex[:6]}"
        service, url = _checkout_service(stack, service_name)
        services.append(service)
        service.start()
        service.wait_ready(30)
        return stack, service_name, url

    yield start
    for service in services:
        service.stop()


def _burst(base_url: str, stop: threading.Event) -> None:
    """Nine declined checkouts for each paid one, about 20 a second, until ``stop``."""
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        n = 0
        while not stop.is_set():
            params = {} if n % 10 == 0 else {"decline": "true"}
            with contextlib.suppress(httpx.HTTPError):
                client.post(f"/checkout/{n}", params=params)
            n += 1
            time.sleep(0.05)


def explain(stack: Stack, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli(stack.state, "explain", *args, "--json", timeout=60)
    try:
        return result.returncode, json.loads(result.stdout)
    except ValueError:
        return result.returncode, {"stdout": result.stdout, "stderr": result.stderr}


def explained(
    stack: Stack,
    what: str,
    *args: str,
    timeout: float,
    until: Callable[[dict[str, Any]], bool] = lambda out: True,
) -> dict[str, Any]:
    """Poll ``otel-ops explain ARGS --json`` until it is complete (exit 0) and ``until`` holds.

    A trace is queryable about a second before its log lines are (they travel separately), so a test
    that expects log lines waits for them too.
    """

    def complete() -> dict[str, Any] | None:
        code, out = explain(stack, *args)
        return out if code == 0 and until(out) else None

    return dict(wait_for(what, complete, timeout=timeout, interval=1.0))


def _firing(stack: Stack, service_name: str) -> list[dict[str, Any]]:
    alerts = get_json(f"{stack.alertmanager}/api/v2/alerts?filter=alertname%3D%22{ALERT}%22")
    return [a for a in alerts if a["labels"].get("service_name") == service_name]


@pytest.mark.timeout(480)
def test_an_alert_is_explained_and_its_trace_survives_a_restart(
    running_service: Callable[..., tuple[Stack, str, str]],
) -> None:
    stack, service_name, url = running_service(
        "--evaluation-interval", "5s", "--metrics-flush-interval", "2s"
    )
    stop = threading.Event()
    sender = threading.Thread(target=_burst, args=(url, stop), daemon=True)
    sender.start()
    try:
        wait_for(
            f"{ALERT} for {service_name} in Alertmanager", lambda: _firing(stack, service_name), 240, 2.0
        )
    finally:
        stop.set()
        sender.join(timeout=10)

    out = explained(
        stack,
        f"`otel-ops explain {ALERT}` to be complete with the trace's error log line",
        ALERT,
        timeout=60,
        until=lambda out: "Exception in ASGI application" in [r["message"] for r in out["logs"]],
    )
    assert out["alert"]["name"] == ALERT and out["alert"]["labels"]["service_name"] == service_name
    assert "service:slo_burn_rate:rate5m > 14.4" in out["alert"]["expression"]  # the rule, from Prometheus
    assert out["failing_routes"][0]["route"] == ROUTE
    trace_id = out["trace_id"]
    assert trace_id and out["trace"]["route"] == ROUTE and out["trace"]["http_status_code"] == 500
    # Jaeger itself returns that trace.
    stored = get_json(f"{stack.jaeger}/api/v3/traces/{trace_id}")["result"]["resourceSpans"]
    stored_spans = [s for r in stored for scope in r["scopeSpans"] for s in scope["spans"]]
    assert len(stored_spans) == out["trace"]["span_count"]
    # Its log lines, as VictoriaLogs has them.
    messages = [record["message"] for record in out["logs"]]
    assert "Exception in ASGI application" in messages and messages[0] == "checkout started"
    response = httpx.post(
        f"{stack.victorialogs}/select/logsql/query", data={"query": f"trace_id:={trace_id}"}
    )
    assert len(response.text.splitlines()) == len(messages)
    # The error fingerprint, the same on the span, the log record and in Prometheus.
    [error] = [e for e in out["errors"] if e["type"] == "checkout_app.PaymentDeclined"]
    assert error["fingerprint"] in out["trace"]["error_fingerprints"]
    assert error["count"] > 0 and error["fingerprint"] in {r["fingerprint"] for r in out["logs"]}

    # The sidecar's webhook recorded the alert's exemplar trace and top error (group_wait is 30 s).
    def listed_with_pointers() -> str | None:
        listing = cli(stack.state, "alerts", "list", "--alertmanager", stack.alertmanager)
        return listing.stdout if error["fingerprint"] in listing.stdout else None

    listing = wait_for("the alert's top error in `otel-ops alerts list`", listed_with_pointers, 90, 2.0)
    assert "otel-ops explain" in listing
    # On an 80-column terminal one block per alert, its ids whole
    narrow = cli(stack.state, "alerts", "list", "--alertmanager", stack.alertmanager, env={"COLUMNS": "80"})
    assert error["fingerprint"] in narrow.stdout and "exemplar trace " in narrow.stdout
    assert "…" not in narrow.stdout and "otel-ops explain" in narrow.stdout

    down = cli(stack.state, "down", "--timeout", "10", timeout=60)
    assert down.returncode == 0, down.stdout + down.stderr
    up = cli(stack.state, "up", *up_args(stack.ports), "--no-sidecar", timeout=150)
    assert up.returncode == 0, up.stdout + up.stderr
    again = explained(stack, f"trace {trace_id} explained after a restart", "--trace", trace_id, timeout=30)
    assert again["trace"]["span_count"] == out["trace"]["span_count"]
    assert again["trace"]["route"] == ROUTE
    assert [record["message"] for record in again["logs"]] == messages
    assert [e["fingerprint"] for e in again["errors"]] == [error["fingerprint"]]


@pytest.mark.timeout(240)
def test_a_clients_traceparent_finds_its_trace_and_logs(
    running_service: Callable[..., tuple[Stack, str, str]],
) -> None:
    stack, service_name, url = running_service("--no-sidecar", "--no-alertmanager")
    trace_id, parent_span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    response = httpx.post(
        f"{url}/checkout/7", headers={"traceparent": f"00-{trace_id}-{parent_span_id}-01"}, timeout=10
    )
    assert response.status_code == 200
    out = explained(
        stack,
        f"trace {trace_id} with its logs",
        "--trace",
        trace_id,
        timeout=10,
        until=lambda out: len(out["logs"]) >= 2,
    )
    trace = out["trace"]
    assert trace["trace_id"] == trace_id and trace["services"] == [service_name]
    root = trace["spans"][0]
    assert root["parent_span_id"] == parent_span_id and root["http_route"] == ROUTE
    assert [record["message"] for record in out["logs"]] == ["checkout started", "checkout done"]
    assert {record["trace_id"] for record in out["logs"]} == {trace_id}
    assert {record["request_id"] for record in out["logs"]} == {root["attributes"]["request.id"]}
