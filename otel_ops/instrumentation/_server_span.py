"""A lightweight recording span for the per-request hot path, and its OTLP encoding.

Every request pays for its server span, so otel-ops records it with this small implementation of the
OpenTelemetry ``Span`` API instead of the SDK's general-purpose one: the tracer provider's sampler decides,
ids come from the same random source, spans created inside the request (SDK or otel-ops) parent to it
through the context as usual, and it is exported through the same queue, in the same OTLP format. When
other span processors are registered on the tracer provider, server spans are SDK spans instead (see
:class:`ServerSpanFactory`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import sampling
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.types import AttributeValue

from otel_ops._version import __version__
from otel_ops.instrumentation import _wire as wire
from otel_ops.instrumentation._errors import exception_event
from otel_ops.instrumentation._limits import (
    ATTRIBUTE_OVERHEAD,
    NUMBER_SIZE,
    SPAN_OVERHEAD,
    clip,
    events_size,
    limit_values,
    value_size,
)
from otel_ops.instrumentation._scrub import Scrubber

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_RECORD_AND_SAMPLE = sampling.Decision.RECORD_AND_SAMPLE
_DROP = sampling.Decision.DROP
_STATUS_CODES = {StatusCode.UNSET: 0, StatusCode.OK: 1, StatusCode.ERROR: 2}
_getrandbits = random.getrandbits
_ROOT = Context()  # no incoming context: the server span starts a trace
SCOPE_NAME = "otel_ops.asgi"


class ServerSpan(trace.Span):
    """A recording SERVER span (single-threaded use: one request's task)."""

    __slots__ = (
        "_context",
        "_end_ns",
        "_events",
        "_limit",
        "_queue_put",
        "_sampled",
        "_scrubber",
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
        scrubber: Scrubber | None = None,
    ) -> None:
        self.name = name
        self._context = context
        self.parent_span_id = parent_span_id
        self.attributes = attributes
        self._queue_put = queue_put if context.trace_flags.sampled else None
        self._limit = value_length_limit
        self._scrubber = scrubber
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
        if self._limit is not None and isinstance(value, str) and len(value) > self._limit:
            value = clip(value, self._limit, self._scrubber)
        self.attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def add_event(
        self, name: str, attributes: Mapping[str, Any] | None = None, timestamp: int | None = None
    ) -> None:
        if not self._end_ns:
            values = dict(attributes or {})
            limit = self._limit
            if limit is not None:
                for key, value in values.items():
                    if isinstance(value, str) and len(value) > limit:
                        values[key] = clip(
                            value, limit, self._scrubber, keep_end=key == "exception.stacktrace"
                        )
            self._events.append((name, timestamp or time.time_ns(), values))

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
        event = exception_event(exception, escaped)
        event.update(attributes or {})
        self.add_event("exception", event, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._end_ns:
            return
        self._end_ns = end_time or time.time_ns()
        if self._queue_put is not None:
            self._queue_put(self, self._limit_and_size())

    def _limit_and_size(self) -> int:
        """Cut attribute values beyond the length limit (request-derived values such as the path or the
        User-Agent arrive uncut; scrubbed before the cut) and return the span's approximate encoded size, in
        one pass: this runs for every request."""
        attributes = self.attributes
        limit = self._limit
        size = (
            SPAN_OVERHEAD + len(self.name) + ATTRIBUTE_OVERHEAD * len(attributes) + sum(map(len, attributes))
        )
        for key, value in attributes.items():
            kind = value.__class__
            if kind is str:
                if limit is not None and len(value) > limit:
                    value = attributes[key] = clip(value, limit, self._scrubber)
                size += len(value)
            elif kind is int or kind is float or kind is bool:
                size += NUMBER_SIZE
            else:  # a sequence: its strings are cut too
                value = attributes[key] = limit_values({key: value}, limit)[key]
                size += value_size(value, 0)
        if self._events:
            size += events_size(self._events)
        return size


class ServerSpanFactory:
    """Starts server spans with the provider's sampler; unsampled requests get a non-recording span.

    While otel-ops' own span processors are the only ones on the tracer provider, the server span is a
    lightweight :class:`ServerSpan` handed straight to otel-ops' queue. Once anything else is registered
    (``provider.add_span_processor(...)``: Sentry, Langfuse, a console exporter, a test's in-memory
    exporter), server spans are started by the SDK's tracer instead, so every processor sees them
    (``on_start`` and ``on_end``) and the current span inside the request is an SDK span.
    """

    def __init__(
        self,
        sampler: sampling.Sampler,
        queue_put: Any,
        value_length_limit: int | None,
        provider: Any = None,
        scrubber: Scrubber | None = None,
    ) -> None:
        self._sampler = sampler
        self._put = queue_put
        self._limit = value_length_limit
        self._scrubber = scrubber
        self._always_on = isinstance(sampler, sampling.ParentBased) and sampler.get_description().startswith(
            "ParentBased{root:AlwaysOnSampler"
        )
        self._processors: Any = None  # the provider's SynchronousMultiSpanProcessor
        self._own: tuple[Any, ...] = ()
        self._tracer: trace.Tracer | None = None
        if provider is not None:
            self._tracer = provider.get_tracer(SCOPE_NAME, __version__)
            processors = getattr(provider, "_active_span_processor", None)
            own = getattr(processors, "_span_processors", None)
            if isinstance(own, tuple):
                self._processors = processors
                self._own = own

    @property
    def value_length_limit(self) -> int | None:
        return self._limit

    def sdk_tracer(self) -> trace.Tracer | None:
        """The SDK tracer when span processors other than otel-ops' own are registered, else None."""
        processors = self._processors
        if processors is None:
            return self._tracer  # a provider whose processors cannot be seen: the SDK path, always
        if processors._span_processors is self._own:
            return None
        return self._tracer

    def start(self, name: str, parent: Context | None, attributes: dict[str, Any]) -> trace.Span:
        tracer = self.sdk_tracer()
        if tracer is not None:
            return tracer.start_span(
                name, parent if parent is not None else _ROOT, kind=SpanKind.SERVER, attributes=attributes
            )
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
        return ServerSpan(name, context, parent_span_id, attributes, self._put, self._limit, self._scrubber)


SCOPE_BYTES = wire.scope(SCOPE_NAME, __version__)


def encode_server_span(span: ServerSpan) -> bytes:
    """One OTLP ``Span`` message (trace.proto field numbers)."""
    context = span._context
    flags = 0x100 | int(context.trace_flags)  # bit 8: whether the parent is remote is known
    parts = [
        wire.length_delimited(1, context.trace_id.to_bytes(16, "big")),
        wire.length_delimited(2, context.span_id.to_bytes(8, "big")),
    ]
    if context.trace_state:
        parts.append(wire.string(3, context.trace_state.to_header()))
    if span.parent_span_id:
        parts.append(wire.length_delimited(4, span.parent_span_id.to_bytes(8, "big")))
        flags |= 0x200  # a server span's parent came in a request header: remote
    parts.append(wire.string(5, span.name))
    parts.append(wire.varint_field(6, 2))  # SPAN_KIND_SERVER
    parts.append(wire.fixed64(7, span.start_ns))
    parts.append(wire.fixed64(8, span._end_ns))
    parts.append(wire.attributes(9, span.attributes))
    for name, timestamp, attributes in span._events:
        event = wire.fixed64(1, timestamp) + wire.string(2, name) + wire.attributes(3, attributes)
        parts.append(wire.length_delimited(11, event))
    status = span._status
    if status is not None and status.status_code is not StatusCode.UNSET:
        body = wire.string(2, status.description) if status.description else b""
        parts.append(
            wire.length_delimited(15, body + wire.varint_field(3, _STATUS_CODES[status.status_code]))
        )
    parts.append(wire.fixed32(16, flags))
    return b"".join(parts)
