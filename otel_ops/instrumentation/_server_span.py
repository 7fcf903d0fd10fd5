"""A lightweight recording span for the per-request hot path, and its OTLP encoding.

Every request pays for its server span, so otel-ops records it with this small implementation of the
OpenTelemetry ``Span`` API instead of the SDK's general-purpose one: the tracer provider's sampler decides,
ids come from the same random source, spans created inside the request (SDK or otel-ops) parent to it
through the context as usual, and it is exported through the same queue, in the same OTLP format.
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status as PbStatus
from opentelemetry.sdk.trace import sampling
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.types import AttributeValue

from otel_ops._version import __version__
from otel_ops.instrumentation._fingerprint import exception_type_name
from otel_ops.instrumentation._otlp_encoding import encode_attributes

_SCOPE = InstrumentationScope(name="otel_ops.asgi", version=__version__)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_RECORD_AND_SAMPLE = sampling.Decision.RECORD_AND_SAMPLE
_DROP = sampling.Decision.DROP
_STATUS_CODES = {StatusCode.UNSET: 0, StatusCode.OK: 1, StatusCode.ERROR: 2}
_getrandbits = random.getrandbits


class ServerSpan(trace.Span):
    """A recording SERVER span (single-threaded use: one request's task)."""

    __slots__ = (
        "_context",
        "_end_ns",
        "_events",
        "_limit",
        "_queue_put",
        "_sampled",
        "_status",
        "attributes",
        "name",
        "parent_span_id",
        "start_ns",
    )

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent_span_id: int,
        attributes: dict[str, Any],
        queue_put: Any,
        value_length_limit: int | None,
    ) -> None:
        self.name = name
        self._context = context
        self.parent_span_id = parent_span_id
        self.attributes = attributes
        self._queue_put = queue_put if context.trace_flags.sampled else None
        self._limit = value_length_limit
        self._events: list[tuple[str, int, dict[str, Any]]] = []
        self._status: Status | None = None
        self._end_ns = 0
        self.start_ns = time.time_ns()

    # -- the Span API ----------------------------------------------------------------------------------------
    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self._end_ns == 0

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        if self._end_ns:
            return
        if self._limit is not None and isinstance(value, str):
            value = value[: self._limit]
        self.attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def add_event(
        self, name: str, attributes: Mapping[str, Any] | None = None, timestamp: int | None = None
    ) -> None:
        if not self._end_ns:
            self._events.append((name, timestamp or time.time_ns(), dict(attributes or {})))

    def add_link(self, context: SpanContext, attributes: Mapping[str, Any] | None = None) -> None:
        return None  # links are set at start by samplers/propagators; a server span from a request has none

    def update_name(self, name: str) -> None:
        if not self._end_ns:
            self.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self._end_ns:
            return
        if isinstance(status, StatusCode):
            status = Status(status, description)
        if self._status is not None and self._status.status_code is StatusCode.OK:
            return  # OK is final, as in the specification
        self._status = status

    def record_exception(
        self,
        exception: BaseException,
        attributes: Mapping[str, Any] | None = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        event = {
            "exception.type": exception_type_name(exception),
            "exception.message": str(exception),
            "exception.stacktrace": "".join(
                traceback.format_exception(type(exception), exception, exception.__traceback__)
            ),
            "exception.escaped": str(escaped),
        }
        event.update(attributes or {})
        self.add_event("exception", event, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._end_ns:
            return
        self._end_ns = end_time or time.time_ns()
        if self._queue_put is not None:
            self._queue_put(self)


class ServerSpanFactory:
    """Starts server spans with the provider's sampler; unsampled requests get a non-recording span."""

    def __init__(self, sampler: sampling.Sampler, queue_put: Any, value_length_limit: int | None) -> None:
        self._sampler = sampler
        self._put = queue_put
        self._limit = value_length_limit
        self._always_on = isinstance(sampler, sampling.ParentBased) and sampler.get_description().startswith(
            "ParentBased{root:AlwaysOnSampler"
        )

    def start(self, name: str, parent: Context | None, attributes: dict[str, Any]) -> trace.Span:
        parent_context = trace.get_current_span(parent).get_span_context() if parent is not None else None
        if parent_context is not None and parent_context.is_valid:
            trace_id = parent_context.trace_id
            parent_span_id = parent_context.span_id
            trace_state = parent_context.trace_state
        else:
            trace_id = _getrandbits(128) or 1
            parent_span_id = 0
            trace_state = None
            parent_context = None
        if self._always_on and parent_context is None:
            decision = _RECORD_AND_SAMPLE
        else:
            result = self._sampler.should_sample(parent, trace_id, name, SpanKind.SERVER, attributes)
            decision = result.decision
            if result.attributes:
                attributes.update(result.attributes)
            trace_state = result.trace_state or trace_state
        span_id = _getrandbits(64) or 1
        flags = _SAMPLED if decision is _RECORD_AND_SAMPLE else _NOT_SAMPLED
        context = SpanContext(trace_id, span_id, is_remote=False, trace_flags=flags, trace_state=trace_state)
        if decision is _DROP:
            return NonRecordingSpan(context)
        return ServerSpan(name, context, parent_span_id, attributes, self._put, self._limit)


def encode_server_spans(spans: Sequence[ServerSpan], resource: Any) -> ResourceSpans:
    encoded = []
    for span in spans:
        context = span._context
        message = PbSpan(
            trace_id=context.trace_id.to_bytes(16, "big"),
            span_id=context.span_id.to_bytes(8, "big"),
            name=span.name,
            kind=PbSpan.SPAN_KIND_SERVER,
            start_time_unix_nano=span.start_ns,
            end_time_unix_nano=span._end_ns,
            attributes=encode_attributes(span.attributes),
            # bit 8: "is the parent remote" is known; bit 9: it is (a server span's parent came in a header)
            flags=0x100 | int(context.trace_flags) | (0x200 if span.parent_span_id else 0),
        )
        if span.parent_span_id:
            message.parent_span_id = span.parent_span_id.to_bytes(8, "big")
        if context.trace_state:
            message.trace_state = context.trace_state.to_header()
        if span._status is not None and span._status.status_code is not StatusCode.UNSET:
            message.status.CopyFrom(
                PbStatus(code=_STATUS_CODES[span._status.status_code], message=span._status.description or "")
            )
        for name, timestamp, attributes in span._events:
            message.events.add(name=name, time_unix_nano=timestamp, attributes=encode_attributes(attributes))
        encoded.append(message)
    return ResourceSpans(resource=resource, scope_spans=[ScopeSpans(scope=_SCOPE, spans=encoded)])
