"""FastAPI's built-in telemetry with the app's own tracer provider (``FastAPI(telemetry=...)``); run under
``otel-ops run`` by the tests. ``/spans`` shows what the app's own provider recorded."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import get_telemetry_data
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

log = logging.getLogger("user-app")
exporter = InMemorySpanExporter()
own_provider = TracerProvider()
own_provider.add_span_processor(SimpleSpanProcessor(exporter))
app = FastAPI(telemetry={"tracer_provider": own_provider})


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/orders/{order_id}")
def order(order_id: int) -> dict[str, Any]:
    data = get_telemetry_data()
    log.info("loading order %s", order_id)
    return {
        "telemetry_data": data is not None and data.request is not None,
        "trace_id": format(trace.get_current_span().get_span_context().trace_id, "032x"),
    }


@app.get("/spans")
def spans() -> list[dict[str, Any]]:
    return [
        {
            "name": span.name,
            "kind": span.kind.name,
            "trace_id": format(span.context.trace_id, "032x"),
            "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        }
        for span in exporter.get_finished_spans()
    ]
