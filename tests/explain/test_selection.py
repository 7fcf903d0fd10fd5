"""Which exemplar traces an alert leads to, and that explain stays out of the instrumentation."""

from __future__ import annotations

import subprocess
import sys

from otel_ops.explain.explainer import alert_matchers, choose_exemplars
from otel_ops.explain.model import Exemplar

ROUTE = "/v1/complete"


def exemplar(trace: str, seconds: float, status: str, at: float, metric: str = "http") -> Exemplar:
    if metric == "http":
        series = {"service_name": "api", "http_route": ROUTE, "http_response_status_code": status}
        name = "http_server_request_duration_seconds_bucket"
    else:
        code = "STATUS_CODE_ERROR" if status.startswith("5") else "STATUS_CODE_UNSET"
        series = {
            "service_name": "api",
            "span_name": f"POST {ROUTE}",
            "span_kind": "SPAN_KIND_SERVER",
            "status_code": code,
        }
        name = "traces_span_metrics_duration_seconds_bucket"
    return Exemplar(trace.ljust(32, "0"), None, seconds, at, name, series)


EXEMPLARS = [
    exemplar("a", 0.010, "500", at=100),
    exemplar("b", 2.500, "200", at=101),
    exemplar("c", 0.020, "503", at=102),
    exemplar("c", 0.020, "503", at=103, metric="span"),  # the same request seen by the span metrics
    exemplar("d", 0.900, "200", at=104, metric="span"),
]


def test_an_error_alert_leads_to_the_newest_failing_request_first() -> None:
    chosen = choose_exemplars(EXEMPLARS, {"alertname": "SLOErrorBudgetBurnFast"}, per_kind=2)
    assert [e.trace_id[0] for e in chosen] == ["c", "a", "b", "d"]
    assert chosen[0].metric.startswith("http_server")  # of one request, the exemplar with the route
    assert chosen[0].route == ROUTE and chosen[0].failing


def test_a_latency_alert_leads_to_the_slowest_request_first() -> None:
    labels = {"alertname": "HTTPLatencyP99High", "alert_family": "latency"}
    chosen = choose_exemplars(EXEMPLARS, labels, per_kind=2)
    assert [e.trace_id[0] for e in chosen] == ["b", "d", "c", "a"]
    assert chosen[1].route == ROUTE  # read from the server span's name


def test_alert_labels_that_select_the_series() -> None:
    labels = {
        "alertname": "X",
        "severity": "page",
        "service_name": "api",
        "slo_window": "1h",
        "http_route": "/a",
    }
    assert alert_matchers(labels) == {"service_name": "api", "http_route": "/a"}


def test_importing_otel_ops_does_not_load_explain() -> None:
    code = "import sys, otel_ops; sys.exit(any(m.startswith('otel_ops.explain') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
