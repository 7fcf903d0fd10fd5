"""The Tempo and Loki adapters against stand-ins answering with the documented shapes of their APIs.

Tempo: ``GET /api/v2/traces/<id>`` answers ``{"trace": {"resourceSpans": [...]}}`` with base64 ids and
enums by name (the example of Tempo's "Push spans with HTTP" guide); ``GET /api/traces/<id>`` answers the
trace itself (``{"batches": [...]}``); ``GET /api/search`` answers ``{"traces": [{"traceID": ...}]}``.
Loki: ``GET /loki/api/v1/query_range`` answers ``{"status": "success", "data": {"resultType": "streams",
"result": [{"stream": {labels}, "values": [["<ns>", "<line>"]]}]}}``, structured metadata among the
labels (or, with the categorised encoding, as a third element of each value).
The traces and logs they serve are the real ones of the pipeline, re-encoded as Tempo and Loki write them.
"""

from __future__ import annotations

import base64
import copy
import time
from typing import Any

import httpx
import pytest

from otel_ops.explain.errors import StoreUnavailable
from otel_ops.explain.model import Window
from otel_ops.explain.stores import JaegerStore, LokiStore, TempoStore, VictoriaLogsStore
from tests.explain.pipeline import Pipeline, new_trace_id
from tests.explain.standins import stand_in

# Tempo's documented answer for trace 5b8efff798038103d269b633813fc700 (ids in base64).
TEMPO_GUIDE_ANSWER = {
    "trace": {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "my.library", "version": "1.0.0"},
                        "spans": [
                            {
                                "traceId": "W47/95gDgQPSabYzgT/HAA==",
                                "spanId": "7uGbfsPBsQA=",
                                "name": "I am a span!",
                                "kind": "SPAN_KIND_SERVER",
                                "startTimeUnixNano": "1689969302000000000",
                                "endTimeUnixNano": "1689970000000000000",
                                "attributes": [
                                    {"key": "my.span.attr", "value": {"stringValue": "some value"}}
                                ],
                                "status": {},
                            }
                        ],
                    }
                ],
            }
        ]
    }
}
KINDS = {1: "SPAN_KIND_INTERNAL", 2: "SPAN_KIND_SERVER", 3: "SPAN_KIND_CLIENT"}
STATUSES = {0: "STATUS_CODE_UNSET", 1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}


def window() -> Window:
    now = time.time()
    return Window(now - 3600, now + 60)


def b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def as_tempo_writes_it(resource_spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OTLP JSON from Jaeger re-encoded as Tempo writes it: base64 ids, enums by name."""
    encoded = copy.deepcopy(resource_spans)
    for resource in encoded:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = b64(span[key])
                span["kind"] = KINDS[int(span.get("kind", 1))]
                span["status"] = {
                    **span.get("status", {}),
                    "code": STATUSES[int(span.get("status", {}).get("code", 0))],
                }
                span["attributes"] = [
                    a for a in span.get("attributes", []) if not a["key"].startswith("@jaeger@")
                ]
    return encoded


def jaeger_resource_spans(pipeline: Pipeline, trace_id: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{pipeline.jaeger_url}/api/v3/traces/{trace_id}", timeout=5).json()
    return list(body["result"]["resourceSpans"])


def test_tempo_reads_the_documented_example(http: httpx.Client) -> None:
    def answer(path: str, params: dict[str, str]) -> tuple[int, Any]:
        return (
            (200, TEMPO_GUIDE_ANSWER)
            if path == "/api/v2/traces/5b8efff798038103d269b633813fc700"
            else (404, "")
        )

    with stand_in(answer) as tempo:
        [span] = TempoStore(tempo.url, http).trace("5b8efff798038103d269b633813fc700") or []
    assert (span.trace_id, span.span_id) == ("5b8efff798038103d269b633813fc700", "eee19b7ec3c1b100")
    assert (span.name, span.kind, span.service, span.status) == (
        "I am a span!",
        "server",
        "my.service",
        "unset",
    )
    assert span.attributes == {"my.span.attr": "some value"}
    assert span.duration_ms == pytest.approx(698_000.0)


def test_tempo_gives_the_same_spans_as_jaeger(pipeline: Pipeline, http: httpx.Client) -> None:
    trace_id = pipeline.declined[0]
    tempo_answer = {"trace": {"resourceSpans": as_tempo_writes_it(jaeger_resource_spans(pipeline, trace_id))}}

    with stand_in(
        lambda path, _: (200, tempo_answer) if path == f"/api/v2/traces/{trace_id}" else (404, "")
    ) as tempo:
        from_tempo = TempoStore(tempo.url, http).trace(trace_id)
    from_jaeger = JaegerStore(pipeline.jaeger_url, http).trace(trace_id)
    assert from_tempo is not None and from_jaeger is not None
    by_id = {span.span_id: span.to_dict() for span in from_jaeger}
    assert {span.span_id: span.to_dict() for span in from_tempo} == by_id


def test_tempo_falls_back_to_the_v1_api_and_says_when_a_trace_is_unknown(
    pipeline: Pipeline, http: httpx.Client
) -> None:
    trace_id = pipeline.paid[0]
    batches = {"batches": as_tempo_writes_it(jaeger_resource_spans(pipeline, trace_id))}

    def answer(path: str, params: dict[str, str]) -> tuple[int, Any]:
        if path == f"/api/traces/{trace_id}":
            return 200, batches
        return 404, "404 page not found" if path.startswith("/api/v2/") else "trace not found"

    with stand_in(answer) as tempo:
        store = TempoStore(tempo.url, http)
        spans = store.trace(trace_id)
        unknown = new_trace_id()
        assert store.trace(unknown) is None
    assert spans and {span.trace_id for span in spans} == {trace_id}
    assert [path for path, _ in tempo.requests] == [
        f"/api/v2/traces/{trace_id}",
        f"/api/traces/{trace_id}",
        f"/api/v2/traces/{unknown}",
        f"/api/traces/{unknown}",
    ]


def test_tempo_search_by_error_fingerprint(http: httpx.Client) -> None:
    found = {
        "traces": [
            {
                "traceID": "5b8efff798038103d269b633813fc700",
                "rootServiceName": "my.service",
                "rootTraceName": "I am a span!",
                "startTimeUnixNano": "1694718625557000000",
                "durationMs": 10000,
            },
            {"traceID": "2f3e0cee77ae5dc9c17ade3689eb2e54", "rootServiceName": "my.service", "durationMs": 1},
        ],
        "metrics": {"inspectedBytes": "292781", "completedJobs": 1, "totalJobs": 1},
    }
    searched = window()
    with stand_in(lambda path, _: (200, found) if path == "/api/search" else (404, "")) as tempo:
        ids = TempoStore(tempo.url, http).find_trace_ids(
            "error.fingerprint", "86442dfb217b4f2a", searched, 20
        )
    assert ids == ["5b8efff798038103d269b633813fc700", "2f3e0cee77ae5dc9c17ade3689eb2e54"]
    [(_, params)] = tempo.requests
    assert params["q"] == '{ span.error.fingerprint = "86442dfb217b4f2a" }'
    assert int(params["start"]) <= searched.start and int(params["end"]) >= searched.end
    assert params["limit"] == "20"


def loki_streams(pipeline: Pipeline, trace_id: str, http: httpx.Client) -> list[dict[str, Any]]:
    """The trace's real log records (read from VictoriaLogs) as Loki stores OTLP logs: service_name a
    stream label, the other attributes structured metadata with dots turned into underscores."""
    records = VictoriaLogsStore(pipeline.victorialogs_url, http).trace_logs(trace_id, window(), 100)
    assert records
    streams = []
    for record in records:
        metadata = {
            "trace_id": record.trace_id,
            "span_id": record.span_id,
            "severity_text": record.severity,
            "request_id": record.request_id,
            "scope_name": record.logger,
            "exception_type": record.exception_type,
            "exception_message": record.exception_message,
            "exception_fingerprint": record.fingerprint,
        }
        labels = {"service_name": record.service, **{k: v for k, v in metadata.items() if v}}
        streams.append({"stream": labels, "values": [[str(record.time_unix_nano), record.message]]})
    return streams


def loki_answer(streams: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": "streams", "result": streams, "stats": {}}}


def test_loki_returns_a_traces_log_lines_in_order(pipeline: Pipeline, http: httpx.Client) -> None:
    trace_id = pipeline.declined[2]
    streams = loki_streams(pipeline, trace_id, http)[::-1]  # Loki groups by label set, not by time
    searched = window()
    with stand_in(lambda path, _: (200, loki_answer(streams))) as loki:
        records = LokiStore(loki.url, http).trace_logs(trace_id, searched, 50)
    assert [r.message for r in records] == [
        "checkout started",
        "payment provider refused order 1002",
        "Exception in ASGI application",
    ]
    assert {r.trace_id for r in records} == {trace_id} and records[-1].fingerprint == pipeline.fingerprint
    assert records[-1].exception_type == "checkout_app.PaymentDeclined" and records[-1].severity == "ERROR"
    [(path, params)] = loki.requests
    assert path == "/loki/api/v1/query_range"
    assert params["query"] == f'{{service_name=~".+"}} | trace_id="{trace_id}"'
    assert params["direction"] == "forward" and params["limit"] == "50"
    assert int(params["start"]) == int(searched.start * 1e9) and int(params["end"]) == int(searched.end * 1e9)


def test_loki_categorised_labels_and_fingerprint_counts(pipeline: Pipeline, http: httpx.Client) -> None:
    streams = [s for trace_id in pipeline.declined for s in loki_streams(pipeline, trace_id, http)]
    errors = [s for s in streams if s["stream"].get("exception_fingerprint")]
    categorised = [
        {
            "stream": {"service_name": s["stream"]["service_name"]},
            "values": [
                [
                    *value,
                    {"structuredMetadata": {k: v for k, v in s["stream"].items() if k != "service_name"}},
                ]
                for value in s["values"]
            ],
        }
        for s in errors
    ]
    with stand_in(lambda path, _: (200, loki_answer(categorised))) as loki:
        store = LokiStore(loki.url, http)
        summary = store.fingerprint_summary(pipeline.fingerprint, window())
        newest_first = store.fingerprint_logs(pipeline.fingerprint, window(), 10)
    assert summary.count == len(pipeline.declined) and summary.exact
    assert summary.services == [pipeline.service_name] and summary.types == ["checkout_app.PaymentDeclined"]
    assert [r.trace_id for r in newest_first] == pipeline.declined[::-1]
    assert (
        loki.requests[0][1]["query"]
        == f'{{service_name=~".+"}} | exception_fingerprint="{pipeline.fingerprint}"'
    )
    assert loki.requests[0][1]["direction"] == "backward"


def test_loki_and_tempo_errors_name_the_store(http: httpx.Client, closed_url: str) -> None:
    refusing = stand_in(lambda path, _: (400, "parse error at line 1, col 5: syntax error"))
    with refusing as loki, pytest.raises(StoreUnavailable) as raised:
        LokiStore(loki.url, http).trace_logs(new_trace_id(), window(), 10)
    assert "Loki at " + loki.url in str(raised.value) and "HTTP 400" in str(raised.value)
    assert "parse error" in str(raised.value)
    with pytest.raises(StoreUnavailable) as down:
        TempoStore(closed_url, http).trace(new_trace_id())
    assert f"Tempo at {closed_url}" in str(down.value) and "--tempo-url" in down.value.hint
