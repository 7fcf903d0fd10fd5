"""Recording exceptions: a span event with the error's fingerprint, and the ``app.errors`` counter."""

from __future__ import annotations

import contextlib
from typing import Any

from opentelemetry import trace

from otel_ops.instrumentation._fingerprint import exception_type_name, fingerprint


class ErrorRecorder:
    def __init__(self, meter: Any) -> None:
        self._counter = meter.create_counter(
            "app.errors",
            unit="{error}",
            description="Exceptions recorded, by type and fingerprint (one fingerprint per distinct bug).",
        )

    def record(self, span: trace.Span, exc: BaseException) -> str:
        """Record ``exc`` on ``span`` and count it; returns its ``error.type``."""
        error_type = exception_type_name(exc)
        print_ = fingerprint(exc)
        if span.is_recording():
            span.record_exception(exc, attributes={"exception.fingerprint": print_}, escaped=True)
            span.set_attribute("error.fingerprint", print_)
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"{error_type}: {exc}"[:200]))
        if not getattr(exc, "_otel_ops_counted", False):  # once per error, however many spans it crosses
            with contextlib.suppress(AttributeError, TypeError):  # exceptions with __slots__
                exc._otel_ops_counted = True  # type: ignore[attr-defined]
            self._counter.add(1, {"error.type": error_type, "error.fingerprint": print_})
        return error_type


def record_exception(exc: BaseException, span: trace.Span | None = None) -> str:
    """Record ``exc`` on ``span`` (default: the current span) with its fingerprint; returns the fingerprint.

    For exceptions an application handles itself but still wants grouped and counted.
    """
    from otel_ops.instrumentation._telemetry import current

    telemetry = current()
    target = span or trace.get_current_span()
    if telemetry is not None:
        telemetry.errors.record(target, exc)
    return fingerprint(exc)
