"""Every dashboard query against the real pipeline after demo traffic.

``otel-ops up`` (Collector, Prometheus with the shared rules, Alertmanager; no Loki or Tempo, no sidecar)
receives the telemetry of the demo service (``otel_ops.demo``) under traffic. Then each PromQL expression
of ``grafana/dashboards/*.json`` runs as an instant query, with Grafana's macros and variables substituted
(``$__rate_interval`` → 1m, ``$__range`` → 1h, each ``$variable`` → ``.+`` as for "All"; see
``tests/stack_config/promql.py``). Every query must parse and execute; every panel of the HTTP, span
metrics, GenAI, error and process dashboards must return data. The panels listed in ``EXPECTED_EMPTY``
have no data in this setup, for the reason given there.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from otel_ops.demo.pipeline import service_process
from otel_ops.demo.traffic import run_traffic
from tests.stack.conftest import Stack, free_ports, get_json, needs_stack
from tests.stack_config.promql import dashboard_expressions, grafana_to_promql

pytestmark = [pytest.mark.slow, *needs_stack]

_NO_SIDECAR = "the ops sidecar does not run in this test"
EXPECTED_EMPTY = {
    "collector.json: Sent by exporter [A]": "spans only feed the span-metrics connector: no Tempo configured",
    "collector.json: Sent by exporter [C]": "no log exporter: Loki is not configured",
    "collector.json: Export failures and drops [A]": "no export failed (the counters are absent)",
    "collector.json: Export failures and drops [B]": "no item was dropped (the counters are absent)",
    "collector.json: Remote writes refused by Prometheus [A]": "Prometheus refuses no remote write",
    "sidecar.json: Health checks [A]": _NO_SIDECAR,
    "sidecar.json: Anomaly scores [A]": _NO_SIDECAR,
    "sidecar.json: Series per anomaly job [A]": _NO_SIDECAR,
    "sidecar.json: Series per anomaly job [B]": _NO_SIDECAR,
    "sidecar.json: Time since last successful backup [A]": _NO_SIDECAR,
    "sidecar.json: Last successful backup [A]": _NO_SIDECAR,
    "sidecar.json: Firing alerts [A]": "no alert fires within the few seconds of this test",
}
# Dashboards of the service's own telemetry (HTTP, span metrics, GenAI, errors, process): all data.
SERVICE_DASHBOARDS = ("service-red.json", "errors.json", "genai.json", "process.json")
TRAFFIC_SECONDS = 15.0
SETTLE_SECONDS = 60.0


class QueryFailed(AssertionError):
    pass


def _query(prometheus: str, promql: str) -> list[Any]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        payload = get_json(url)
    except urllib.error.HTTPError as exc:
        raise QueryFailed(f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:300]}") from exc
    if payload.get("status") != "success":
        raise QueryFailed(str(payload))
    result = payload["data"]["result"]
    return result if isinstance(result, list) else [result]


def _empty_panels(prometheus: str) -> dict[str, str]:
    """Panel target -> substituted query, for every dashboard query that returns no data."""
    empty = {}
    for where, expr in dashboard_expressions():
        promql = grafana_to_promql(expr)
        try:
            if not _query(prometheus, promql):
                empty[where] = promql
        except QueryFailed as exc:
            pytest.fail(f"{where}: query failed: {promql}\n{exc}")
    return empty


@pytest.mark.timeout(180)
def test_dashboard_queries_return_data_after_demo_traffic(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory(
        "--no-sidecar",
        "--evaluation-interval",
        "5s",
        "--metrics-flush-interval",
        "2s",
        env={"OTEL_OPS_LOKI_OTLP_ENDPOINT": "", "OTEL_OPS_TEMPO_OTLP_ENDPOINT": ""},
    )
    (port,) = free_ports(1)
    service = service_process(stack.state, "127.0.0.1", port, stack.otlp_http, uuid.uuid4().hex[:12])
    service.start()
    try:
        service.wait_ready(30)
        stats = run_traffic(f"http://127.0.0.1:{port}", TRAFFIC_SECONDS, concurrency=4, seed=7)
        assert stats.by_status.get(200, 0) > 50, stats.by_status
        assert stats.by_status.get(500, 0) > 0, stats.by_status  # the errors dashboard needs some

        # Poll until nothing but the expected panels is empty (telemetry and recording rules arrived).
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            empty = _empty_panels(stack.prometheus)
            if not set(empty) - set(EXPECTED_EMPTY) or time.monotonic() > deadline:
                break
            time.sleep(3.0)
    finally:
        service.stop()

    unexpected = {where: q for where, q in empty.items() if where not in EXPECTED_EMPTY}
    assert not unexpected, "panels without data:\n" + "\n".join(f"{w}: {q}" for w, q in unexpected.items())
    service_panels = [where for where, _ in dashboard_expressions() if where.startswith(SERVICE_DASHBOARDS)]
    assert len(service_panels) >= 30, service_panels
    assert not [where for where in service_panels if where in empty]
    # The span-metrics panel reads the Collector's span metrics, not the SDK's HTTP metrics.
    assert any(
        "traces_span_metrics" in expr for where, expr in dashboard_expressions() if where in service_panels
    )
    print("panels without data in this setup:\n" + "\n".join(f"  {w}: {EXPECTED_EMPTY[w]}" for w in empty))
