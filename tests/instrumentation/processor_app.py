"""An app that adds a span processor of its own to the global tracer provider, as Sentry, Langfuse or a
console exporter do; run under ``otel-ops run`` by the tests. ``/seen`` shows what the processor saw."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor


class Recorder(SpanProcessor):
    """Keeps what a vendor's processor would see: the span at its start and when it ended."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.events.append({"event": "start", "span_id": format(span.context.span_id, "016x")})

    def on_end(self, span: ReadableSpan) -> None:
        self.events.append(
            {
                "event": "end",
                "name": span.name,
                "kind": span.kind.name,
                "span_id": format(span.context.span_id, "016x"),
                "trace_id": format(span.context.trace_id, "032x"),
                "attributes": dict(span.attributes or {}),
            }
        )


recorder = Recorder()
app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/items/{item_id}")
def item(item_id: int) -> dict[str, Any]:
    span = trace.get_current_span()
    return {
        "sdk_span": isinstance(span, Span),
        "span_id": format(span.get_span_context().span_id, "016x"),
    }


@app.get("/seen")
def seen() -> list[dict[str, Any]]:
    return recorder.events


trace.get_tracer_provider().add_span_processor(recorder)  # type: ignore[attr-defined]
