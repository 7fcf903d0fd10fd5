"""Correlation ids for log lines: trace id, span id and request id of the work being done.

The HTTP middleware stores the request's ids in a context variable that outlives its server span, so lines
logged after the span ended (exception handlers, the server's access and error logs) still carry them.
Inside the request, the current span (e.g. an LLM call's child span) gives the span id.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import NamedTuple

from opentelemetry import trace

_INVALID_SPAN = trace.INVALID_SPAN
_get_current_span = trace.get_current_span


class RequestIds(NamedTuple):
    trace_id: str
    span_id: str
    request_id: str
    span_id_int: int


request_ids: ContextVar[RequestIds | None] = ContextVar("otel_ops_request_ids", default=None)


def current_ids() -> tuple[str | None, str | None, str | None]:
    """(trace_id, span_id, request_id) as hex strings, or Nones outside any request or span."""
    request = request_ids.get()
    span = _get_current_span()
    if span is not _INVALID_SPAN:
        context = span.get_span_context()
        if context.is_valid:
            if request is not None and context.span_id == request.span_id_int:
                return request.trace_id, request.span_id, request.request_id
            return (
                format(context.trace_id, "032x"),
                format(context.span_id, "016x"),
                request.request_id if request is not None else None,
            )
    if request is not None:
        return request.trace_id, request.span_id, request.request_id
    return None, None, None
