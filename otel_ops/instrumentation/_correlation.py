"""Correlation ids for log lines: trace id, span id and request id of the work being done.

The HTTP middleware stores the request's ids in a context variable that outlives its server span, so lines
logged after the span ended (exception handlers, the server's access and error logs) still carry them.
Inside the request, the current span (e.g. an LLM call's child span) gives the span id.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import NamedTuple

from opentelemetry import trace

_INVALID_SPAN = trace.INVALID_SPAN


def _span_getter() -> Callable[[], trace.Span]:
    """``trace.get_current_span`` without its layers of indirection when the default runtime context is
    in use (a dictionary in a context variable); the public function otherwise."""
    try:
        from opentelemetry.context import _RUNTIME_CONTEXT
        from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
        from opentelemetry.trace.propagation import _SPAN_KEY

        if type(_RUNTIME_CONTEXT) is ContextVarsRuntimeContext:
            current = _RUNTIME_CONTEXT._current_context.get

            def get_current_span() -> trace.Span:
                return current().get(_SPAN_KEY, _INVALID_SPAN)  # type: ignore[return-value]

            return get_current_span
    except (ImportError, AttributeError):
        pass
    return trace.get_current_span


_get_current_span = _span_getter()


class RequestIds(NamedTuple):
    trace_id: str | None  # None: the request is not traced
    span_id: str | None
    request_id: str
    span_id_int: int
    sampled: bool


_last_hex: tuple[int, int, str, str] = (0, 0, "", "")

request_ids: ContextVar[RequestIds | None] = ContextVar("otel_ops_request_ids", default=None)


def current_ids() -> tuple[str | None, str | None, str | None, bool]:
    """(trace_id, span_id, request_id, sampled): hex ids (Nones outside any request or span) and whether
    the trace is sampled."""
    request = request_ids.get()
    span = _get_current_span()
    if span is not _INVALID_SPAN:
        context = span.get_span_context()
        if context.is_valid:
            span_id = context.span_id
            if request is not None and span_id == request.span_id_int:
                return request.trace_id, request.span_id, request.request_id, request.sampled
            global _last_hex
            last = _last_hex  # consecutive lines of one span reuse its hex ids
            if last[0] != span_id or last[1] != context.trace_id:
                last = _last_hex = (
                    span_id,
                    context.trace_id,
                    format(context.trace_id, "032x"),
                    format(span_id, "016x"),
                )
            request_id = request.request_id if request is not None else None
            return last[2], last[3], request_id, context.trace_flags.sampled
    if request is not None:
        return request.trace_id, request.span_id, request.request_id, request.sampled
    return None, None, None, False
