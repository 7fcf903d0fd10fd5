"""The Jaeger, VictoriaLogs and Prometheus adapters against the real stores, fed by a real service."""

from __future__ import annotations

import time

import httpx
import pytest

from otel_ops.explain.errors import StoreUnavailable
from otel_ops.explain.model import TraceView, Window
from otel_ops.explain.stores import JaegerStore, PrometheusStore, VictoriaLogsStore
from tests.explain.pipeline import ERROR_TYPE, ROUTE, Pipeline, new_trace_id


def last_hour() -> Window:
    now = time.time()
    return Window(now - 3600, now + 60)


def test_jaeger_returns_a_failed_checkout_as_a_span_tree(pipeline: Pipeline, http: httpx.Client) -> None:
    trace_id = pipeline.declined[0]
    spans = JaegerStore(pipeline.jaeger_url, http).trace(trace_id)
    assert spans is not None
    trace = TraceView(trace_id, spans, "Jaeger")
    tree = list(trace.tree())
    server, depth = tree[0]
    assert depth == 0 and server.kind == "server" and server.service == pipeline.service_name
    assert (server.http_route, server.http_status_code, server.status) == (ROUTE, 500, "error")
    assert server.error_fingerprint == pipeline.fingerprint
    assert server.exception == {"type": ERROR_TYPE, "message": "card declined for order 1000"}
    [(llm, llm_depth)] = [(span, d) for span, d in tree if span.genai and "model" in span.genai]
    assert llm_depth == 1 and llm.parent_span_id == server.span_id
    assert llm.genai == {
        "operation": "chat",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "input_tokens": 120,
        "output_tokens": 30,
        "cost_usd": pytest.approx(llm.genai["cost_usd"]),
    }
    assert llm.genai["cost_usd"] > 0
    assert trace.route == ROUTE and trace.failed and trace.fingerprints == [pipeline.fingerprint]
    # Jaeger's own bookkeeping attributes are not telemetry.
    assert not [key for span in spans for key in span.attributes if key.startswith("@jaeger@")]


def test_jaeger_unknown_trace_is_none_and_search_finds_the_error(
    pipeline: Pipeline, http: httpx.Client
) -> None:
    jaeger = JaegerStore(pipeline.jaeger_url, http)
    assert jaeger.trace(new_trace_id()) is None
    found = jaeger.find_trace_ids("error.fingerprint", pipeline.fingerprint, last_hour(), 20)
    assert set(found) == set(pipeline.declined)


def test_victorialogs_returns_a_traces_log_lines_in_order(pipeline: Pipeline, http: httpx.Client) -> None:
    trace_id = pipeline.declined[1]
    records = VictoriaLogsStore(pipeline.victorialogs_url, http).trace_logs(trace_id, last_hour(), 100)
    assert [r.message for r in records] == [
        "checkout started",
        "payment provider refused order 1001",
        "Exception in ASGI application",
    ]
    assert [r.severity for r in records] == ["INFO", "WARNING", "ERROR"]
    assert {r.trace_id for r in records} == {trace_id}
    assert len({r.request_id for r in records}) == 1 and records[0].request_id
    assert records[0].attributes["order.id"] == "1001"
    error = records[-1]
    assert (error.exception_type, error.fingerprint) == (ERROR_TYPE, pipeline.fingerprint)
    assert error.exception_message == "card declined for order 1001"
    assert "Traceback" in (error.stacktrace or "")
    assert error.service == pipeline.service_name and error.logger


def test_victorialogs_counts_an_error_fingerprint(pipeline: Pipeline, http: httpx.Client) -> None:
    logs = VictoriaLogsStore(pipeline.victorialogs_url, http)
    summary = logs.fingerprint_summary(pipeline.fingerprint, last_hour())
    assert summary.count == len(pipeline.declined)
    assert summary.services == [pipeline.service_name] and summary.types == [ERROR_TYPE]
    assert summary.first_seen is not None and summary.last_seen is not None
    assert summary.first_seen <= summary.last_seen
    newest_first = logs.fingerprint_logs(pipeline.fingerprint, last_hour(), 2)
    assert [r.trace_id for r in newest_first] == pipeline.declined[::-1][:2]


def test_prometheus_exemplars_point_at_the_failing_and_slow_traces(
    pipeline: Pipeline, http: httpx.Client
) -> None:
    exemplars = PrometheusStore(pipeline.prometheus.url, http).exemplars(
        {"service_name": pipeline.service_name}, last_hour()
    )
    failing = {e.trace_id for e in exemplars if e.failing}
    assert failing and failing <= set(pipeline.declined)
    assert {e.route for e in exemplars if e.failing and e.route} == {ROUTE}
    slow = [e for e in exemplars if e.trace_id in pipeline.slow]
    assert slow and max(e.value_seconds for e in slow) >= 0.3
    assert {e.series["service_name"] for e in exemplars} == {pipeline.service_name}


def test_prometheus_counts_errors_by_fingerprint_exactly(pipeline: Pipeline, http: httpx.Client) -> None:
    prometheus = PrometheusStore(pipeline.prometheus.url, http)
    [group] = prometheus.error_groups({"service_name": pipeline.service_name}, last_hour())
    # The counter began inside the window: increase() would miss its first value, the samples do not.
    assert (group.fingerprint, group.count, group.error_type) == (pipeline.fingerprint, 3, ERROR_TYPE)
    assert group.services == [pipeline.service_name]
    assert group.first_seen is not None and group.first_seen <= time.time()
    assert prometheus.error_groups({"service_name": pipeline.service_name}, last_hour(), ["0" * 16]) == []


@pytest.mark.parametrize("store", [JaegerStore, VictoriaLogsStore, PrometheusStore])
def test_a_store_that_is_down_is_named_with_its_url(store: type, closed_url: str, http: httpx.Client) -> None:
    adapter = store(closed_url, http)
    with pytest.raises(StoreUnavailable) as raised:
        if isinstance(adapter, JaegerStore):
            adapter.trace(new_trace_id())
        elif isinstance(adapter, VictoriaLogsStore):
            adapter.trace_logs(new_trace_id(), last_hour(), 10)
        else:
            adapter.exemplars({}, last_hour())
    message = str(raised.value)
    assert adapter.name in message and closed_url in message and "not reachable" in message
    assert "otel-ops up" in raised.value.hint
