"""Traces: the tracer provider, its sampler and propagators, and the queued span processor."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from opentelemetry import propagate
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import (
    Event,
    ReadableSpan,
    Span,
    SpanLimits,
    SpanProcessor,
    TracerProvider,
    sampling,
)
from opentelemetry.trace import Status
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_ops.config.settings import TracesOptions
from otel_ops.instrumentation import _wire as wire
from otel_ops.instrumentation._batch import BatchQueue, Outcome
from otel_ops.instrumentation._limits import SPAN_OVERHEAD, attributes_size, events_size
from otel_ops.instrumentation._resource import ProcessIdentity
from otel_ops.instrumentation._scrub import Scrubber
from otel_ops.instrumentation._server_span import SCOPE_BYTES, ServerSpan, encode_server_span
from otel_ops.instrumentation._transport import Transport

_logger = logging.getLogger("otel_ops.config")


def build_sampler(options: TracesOptions) -> sampling.Sampler:
    ratio = options.sampler_arg if options.sampler_arg is not None else 1.0
    return {
        "always_on": lambda: sampling.ALWAYS_ON,
        "always_off": lambda: sampling.ALWAYS_OFF,
        "traceidratio": lambda: sampling.TraceIdRatioBased(ratio),
        "parentbased_always_on": lambda: sampling.ParentBased(sampling.ALWAYS_ON),
        "parentbased_always_off": lambda: sampling.ParentBased(sampling.ALWAYS_OFF),
        "parentbased_traceidratio": lambda: sampling.ParentBased(sampling.TraceIdRatioBased(ratio)),
    }[options.sampler or "parentbased_always_on"]()


def build_propagator(names: tuple[str, ...]) -> TextMapPropagator:
    propagators: list[TextMapPropagator] = []
    for name in names:
        if name == "none":
            return CompositePropagator([])
        if name == "tracecontext":
            propagators.append(TraceContextTextMapPropagator())
        elif name == "baggage":
            propagators.append(W3CBaggagePropagator())
        else:
            found = entry_points(group="opentelemetry_propagator", name=name)
            if not found:
                _logger.warning(
                    "Ignoring unknown propagator %r in OTEL_PROPAGATORS (is its package installed?)", name
                )
                continue
            propagators.append(next(iter(found)).load()())
    return CompositePropagator(propagators)


def build_tracer_provider(options: TracesOptions, resource: Resource) -> TracerProvider:
    limits = SpanLimits(
        max_span_attributes=options.attribute_count_limit,
        max_attribute_length=options.attribute_value_length_limit,
        max_span_attribute_length=options.attribute_value_length_limit,
        max_events=options.event_count_limit,
        max_links=options.link_count_limit,
    )
    return TracerProvider(resource=resource, sampler=build_sampler(options), span_limits=limits)


def install_propagator(options: TracesOptions) -> None:
    propagate.set_global_textmap(build_propagator(options.propagators or ("tracecontext", "baggage")))


class QueuedSpanProcessor(SpanProcessor):
    """Hands finished, sampled spans to a :class:`BatchQueue` with their approximate size (their attribute
    values are already cut to the span limits by the SDK)."""

    def __init__(self, queue: BatchQueue[ReadableSpan]) -> None:
        self._put = queue.put
        self.queue = queue

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if span.context.trace_flags.sampled:
            size = SPAN_OVERHEAD + len(span.name) + attributes_size(span._attributes)
            events = span._events
            if events:
                size += events_size(events)
            self._put(span, size)

    def shutdown(self) -> None:  # the Telemetry owner shuts the queue down with its deadline
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.queue.flush(time.monotonic() + timeout_millis / 1000)


def _scrub_status(status: Status | None, scrubber: Scrubber) -> Status | None:
    """The status with its description scrubbed, or None when it needed nothing."""
    if status is None or not status.description:
        return None
    clean = scrubber.text(status.description)
    return None if clean == status.description else Status(status.status_code, clean)


def _scrub_span(span: ReadableSpan, scrubber: Scrubber, cut_at: int | None) -> None:
    """Scrubs an SDK span. The SDK cut its attribute values to ``cut_at`` characters as they were set, so a
    value that long may end inside a secret: see :meth:`Scrubber.cut_text`."""
    name = scrubber.text(span.name)
    if name != span.name:
        span._name = name
    attributes = span.attributes
    if attributes:
        clean = scrubber.attributes(attributes, cut_at)
        if clean is not None:
            span._attributes = clean
    if span.events:
        events = []
        changed = False
        for event in span.events:
            clean = scrubber.attributes(event.attributes, cut_at) if event.attributes else None
            event_name = scrubber.text(event.name)
            if clean is not None or event_name != event.name:
                changed = True
                events.append(Event(event_name, clean or event.attributes, event.timestamp))
            else:
                events.append(event)
        if changed:
            span._events = tuple(events)
    status = _scrub_status(span.status, scrubber)
    if status is not None:
        span._status = status


def _scrub_server_span(span: ServerSpan, scrubber: Scrubber) -> None:
    span.name = scrubber.text(span.name)
    clean = scrubber.attributes(span.attributes)
    if clean is not None:
        span.attributes = clean
    for index, (name, timestamp, attributes) in enumerate(span._events):
        clean = scrubber.attributes(attributes)
        event_name = scrubber.text(name)
        if clean is not None or event_name != name:
            span._events[index] = (event_name, timestamp, clean if clean is not None else attributes)
    status = _scrub_status(span._status, scrubber)
    if status is not None:
        span._status = status


def span_exporter(
    transport: Transport,
    identity: ProcessIdentity,
    scrubber: Scrubber | None,
    resource: Resource,
    value_length_limit: int | None = None,
) -> Callable[[list[Any], float | None], Outcome]:
    """Encodes a batch of SDK spans and otel-ops server spans into one OTLP request, and sends it.
    ``value_length_limit`` is the SDK's attribute value length limit."""

    def export(batch: list[Any], timeout: float | None) -> Outcome:
        server_spans = [span for span in batch if type(span) is ServerSpan]
        sdk_spans = [span for span in batch if type(span) is not ServerSpan] if server_spans else batch
        if scrubber is not None:
            for span in sdk_spans:
                _scrub_span(span, scrubber, value_length_limit)
            for span in server_spans:
                _scrub_server_span(span, scrubber)
        body = b""
        if sdk_spans:
            request = encode_spans(sdk_spans)
            identity.stamp(request.resource_spans)
            body = request.SerializeToString()
        if server_spans:
            # serialized requests concatenate into one request holding both resource groups
            body += wire.resource_group(
                identity.resource_bytes(resource),
                [(SCOPE_BYTES, [encode_server_span(span) for span in server_spans])],
            )
        return transport.send(body, timeout)

    return export
