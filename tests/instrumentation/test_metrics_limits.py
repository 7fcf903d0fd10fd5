"""One unbounded attribute must not exhaust memory: series per instrument are capped, the rest overflow."""

from __future__ import annotations

from tests.instrumentation.conftest import run_python, service_env

SCRIPT = """
import otel_ops
from opentelemetry import metrics
otel_ops.configure()
counter = metrics.get_meter("shop").create_counter("orders")
for user in range(50):
    counter.add(1, {"user.id": str(user)})
otel_ops.shutdown()
"""


def test_cardinality_limit_sends_extra_series_to_one_overflow_series(sink):
    run_python(SCRIPT, service_env(sink, OTEL_OPS_METRIC_CARDINALITY_LIMIT="10"))
    orders = [m for m in sink.metrics() if m["name"] == "orders"][-1]
    points = orders["points"]
    overflow = [p for p in points if p["attributes"].get("otel.metric.overflow") is True]
    assert len(points) <= 11
    assert overflow and sum(p["value"] for p in points) == 50
