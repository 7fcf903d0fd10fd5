"""One request to an instrumented service, followed through the built Collector into every store.

The FastAPI demo service (``otel_ops.configure()``) runs under uvicorn and exports over OTLP/HTTP to the
Collector with the project's configuration, which sends traces to Jaeger, logs to VictoriaLogs and metrics
to Prometheus (remote write), all real (:func:`tests.support.stores.running_stores` and
:func:`tests.collector.processes.start_prometheus`). What an on-call engineer relies on: the request's
server span is in Jaeger with its route, the line the handler logged is in VictoriaLogs under the same
trace and span, and the route's request duration is in Prometheus with an exemplar pointing at the trace.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.collector.processes import Prometheus, start_prometheus, wait_for
from tests.support.ports import free_port
from tests.support.services import uvicorn_app
from tests.support.stores import Stores, jaeger_spans, running_stores, victorialogs_records

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
APP = "tests.instrumentation.demo_app:app"  # GET /items/{item_id} logs "loading item <id>"
ROUTE = "/items/{item_id}"
ITEM = 42


@dataclass
class Pipeline:
    stores: Stores
    prometheus: Prometheus
    service_name: str
    trace_id: str  # of the one request, from the traceparent it carried
    request_id: str  # X-Request-ID the service answered with


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    state = tmp_path_factory.mktemp("instrumentation-e2e")
    with running_stores(state / "stores") as stores, ExitStack() as cleanup:
        # The Collector remote-writes to this port from the start; its WAL holds what comes before.
        prometheus = start_prometheus(state / "prometheus", port=stores.ports.prometheus)
        cleanup.callback(prometheus.process.stop)
        port = free_port()
        service_name = f"items-{uuid.uuid4().hex[:8]}"
        service = uvicorn_app(APP, REPO, port, service_name, stores.otlp_http, state / "service.log")
        service.start()
        cleanup.callback(service.stop)
        service.wait_ready(30)

        trace_id = uuid.uuid4().hex
        traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
        response = httpx.get(
            f"http://127.0.0.1:{port}/items/{ITEM}", headers={"traceparent": traceparent}, timeout=10
        )
        assert response.status_code == 200, response.text
        yield Pipeline(stores, prometheus, service_name, trace_id, response.headers["x-request-id"])


def otlp_attributes(attributes: list[dict[str, Any]]) -> dict[str, Any]:
    """OTLP JSON attributes (``[{"key": k, "value": {"stringValue": v}}]``) as a plain dict."""
    return {a["key"]: next(iter(a["value"].values()), None) for a in attributes}


def server_span(pipeline: Pipeline) -> dict[str, Any]:
    name = f"GET {ROUTE}"
    spans = wait_for(
        lambda: [s for s in jaeger_spans(pipeline.stores.jaeger_url, pipeline.trace_id) if s["name"] == name],
        30,
        f"the server span {name!r} of trace {pipeline.trace_id} in Jaeger",
    )
    assert len(spans) == 1, spans
    return spans[0]


def test_the_server_span_arrives_in_jaeger_with_its_route(pipeline: Pipeline) -> None:
    span = server_span(pipeline)
    attributes = otlp_attributes(span["attributes"])
    assert span["kind"] in (2, "SPAN_KIND_SERVER"), span["kind"]
    assert attributes["http.route"] == ROUTE
    assert attributes["http.request.method"] == "GET"
    assert int(attributes["http.response.status_code"]) == 200
    assert attributes["request.id"] == pipeline.request_id
    assert otlp_attributes(span["resource"]["attributes"])["service.name"] == pipeline.service_name


def test_the_handler_log_line_arrives_in_victorialogs_with_the_trace_id(pipeline: Pipeline) -> None:
    message = f"loading item {ITEM}"
    records = wait_for(
        lambda: [
            r
            for r in victorialogs_records(pipeline.stores.victorialogs_url, f"trace_id:={pipeline.trace_id}")
            if r["_msg"] == message
        ],
        30,
        f"the log line {message!r} of trace {pipeline.trace_id} in VictoriaLogs",
    )
    assert len(records) == 1, records
    record = records[0]
    assert record["trace_id"] == pipeline.trace_id
    assert record["span_id"] == server_span(pipeline)["spanId"]  # written inside the request's server span
    assert record["service.name"] == pipeline.service_name
    assert record["severity_text"] == "INFO"


def test_the_route_request_duration_is_queryable_in_prometheus_with_an_exemplar(pipeline: Pipeline) -> None:
    selector = f'service_name="{pipeline.service_name}", http_route="{ROUTE}"'
    try:
        series = wait_for(
            lambda: pipeline.prometheus.query(f"http_server_request_duration_seconds_count{{{selector}}}"),
            60,
            f"http_server_request_duration_seconds_count{{{selector}}} in Prometheus",
        )
    except AssertionError as missing:
        answers = pipeline.prometheus.remote_write_answers()
        raise AssertionError(f"{missing}; Prometheus answered remote writes by status: {answers}") from None
    assert len(series) == 1, series
    labels = series[0]["metric"]
    assert (labels["http_request_method"], labels["http_response_status_code"]) == ("GET", "200")
    assert float(series[0]["value"][1]) == 1.0  # the one request

    def exemplar_trace_ids() -> set[str]:
        found = pipeline.prometheus.exemplars(f"http_server_request_duration_seconds_bucket{{{selector}}}")
        return {e["labels"].get("trace_id", "") for s in found for e in s["exemplars"]}

    assert pipeline.trace_id in wait_for(
        exemplar_trace_ids, 60, f"an exemplar of trace {pipeline.trace_id} on the route's histogram"
    )
