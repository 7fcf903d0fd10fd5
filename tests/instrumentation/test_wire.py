"""The hand-written wire encoding decodes, with protobuf's own classes, to exactly what was recorded."""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk.trace import sampling
from opentelemetry.trace import StatusCode

from otel_ops.instrumentation import _wire as wire
from otel_ops.instrumentation._logs import encode_log_batch
from otel_ops.instrumentation._server_span import SCOPE_BYTES, ServerSpanFactory, encode_server_span
from tests.support.otlp_sink import any_value, attributes

VALUES = {"s": "héllo", "i": -42, "big": 2**40, "f": 1.5, "b": True, "list": ["a", "b"], "nested": {"k": 1}}


def test_any_values_round_trip():
    for key, value in VALUES.items():
        decoded = AnyValue.FromString(wire.any_value(value))
        assert any_value(decoded) == value, key


def test_server_span_round_trips():
    spans: list = []
    factory = ServerSpanFactory(
        sampling.ParentBased(sampling.ALWAYS_ON), lambda span, size: spans.append(span), None
    )
    span = factory.start("GET", None, {"http.request.method": "GET", "server.port": 8000, **VALUES})
    span.update_name("GET /items/{id}")
    span.record_exception(ValueError("bad"))
    span.set_status(StatusCode.ERROR, "boom")
    span.end()
    body = wire.resource_group(
        wire.resource({"service.name": "svc"}), [(SCOPE_BYTES, [encode_server_span(span)])]
    )
    request = ExportTraceServiceRequest.FromString(body + body)  # requests concatenate
    assert len(request.resource_spans) == 2
    group = request.resource_spans[0]
    assert attributes(group.resource.attributes) == {"service.name": "svc"}
    assert group.scope_spans[0].scope.name == "otel_ops.asgi"
    decoded = group.scope_spans[0].spans[0]
    context = span.get_span_context()
    assert decoded.trace_id == context.trace_id.to_bytes(16, "big")
    assert decoded.span_id == context.span_id.to_bytes(8, "big")
    assert decoded.name == "GET /items/{id}"
    assert decoded.kind == decoded.SPAN_KIND_SERVER
    assert (
        decoded.start_time_unix_nano == span.start_ns
        and decoded.end_time_unix_nano > decoded.start_time_unix_nano
    )
    assert attributes(decoded.attributes) == {"http.request.method": "GET", "server.port": 8000, **VALUES}
    assert decoded.events[0].name == "exception"
    assert attributes(decoded.events[0].attributes)["exception.type"] == "ValueError"
    assert decoded.status.code == 2 and decoded.status.message == "boom"
    assert decoded.flags & 0xFF == 1


def test_log_batch_round_trips():
    trace_id, span_id = "ab" * 16, "cd" * 8
    batch = [
        (
            1_700_000_000_000_000_000,
            20,
            "INFO",
            "hello",
            "app",
            trace_id,
            span_id,
            True,
            {"request.id": "r1"},
        ),
        (1_700_000_000_000_000_001, 40, "ERROR", "oops", "app.db", None, None, False, {}),
        (1_700_000_000_000_000_002, 20, "INFO", "unsampled", "app.db", trace_id, span_id, False, {}),
    ]
    request = ExportLogsServiceRequest.FromString(
        encode_log_batch(batch, wire.resource({"service.name": "svc"}))
    )
    scopes = {s.scope.name: s.log_records for s in request.resource_logs[0].scope_logs}
    first = scopes["app"][0]
    assert first.body.string_value == "hello" and first.severity_number == 9 and first.severity_text == "INFO"
    assert first.trace_id.hex() == trace_id and first.span_id.hex() == span_id
    assert attributes(first.attributes) == {"request.id": "r1"}
    assert first.time_unix_nano == 1_700_000_000_000_000_000
    assert first.flags == 1  # sampled
    second, unsampled = scopes["app.db"]
    assert second.severity_number == 17 and second.trace_id == b""
    assert unsampled.trace_id.hex() == trace_id and unsampled.flags == 0


def test_encoding_long_values_keeps_no_copies_of_them():
    import gc
    import tracemalloc

    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(1500):
            text = f"{i:06d}" + "x" * 8000
            nested = {"request": {"body": text}, "values": (text, "plain")}
            wire.attributes(6, {"detail": text, **nested})
            wire.any_value(nested)
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < 2_000_000, f"{retained} bytes kept after encoding 1500 distinct 8 kB values"
