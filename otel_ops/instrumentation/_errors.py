"""Recording exceptions: a span event with the error's fingerprint, and the ``app.errors`` counter."""

from __future__ import annotations

import contextlib
import traceback
from typing import Any

from opentelemetry import trace

from otel_ops.instrumentation._fingerprint import exception_type_name, fingerprint
from otel_ops.instrumentation._limits import clip
from otel_ops.instrumentation._scrub import Scrubber

_STATUS_DESCRIPTION_LIMIT = 200


def exception_event(exc: BaseException, escaped: bool) -> dict[str, Any]:
    """The attributes of a span's ``exception`` event, by the semantic conventions."""
    return {
        "exception.type": exception_type_name(exc),
        "exception.message": str(exc),
        "exception.stacktrace": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        "exception.escaped": str(escaped),
    }


class ErrorRecorder:
    """Records exceptions on spans; long texts are scrubbed before they are cut to ``value_length_limit``
    (a stack trace keeps its end), so no secret is left half-redacted at a cut."""

    def __init__(
        self, meter: Any, scrubber: Scrubber | None = None, value_length_limit: int | None = None
    ) -> None:
        self._counter = meter.create_counter(
            "app.errors",
            unit="{error}",
            description="Exceptions recorded, by type and fingerprint (one fingerprint per distinct bug).",
        )
        self._scrubber = scrubber
        self._limit = value_length_limit

    def record(self, span: trace.Span, exc: BaseException) -> str:
        """Record ``exc`` on ``span`` and count it; returns its ``error.type``."""
        error_type = exception_type_name(exc)
        print_ = fingerprint(exc)  # of the raw exception: scrubbing never changes an error's group
        if span.is_recording():
            event = exception_event(exc, escaped=True)
            limit = self._limit
            if limit is not None:
                for key in ("exception.message", "exception.stacktrace"):
                    event[key] = clip(
                        event[key], limit, self._scrubber, keep_end=key == "exception.stacktrace"
                    )
            event["exception.fingerprint"] = print_
            span.add_event("exception", event)
            span.set_attribute("error.fingerprint", print_)
            description = clip(f"{error_type}: {exc}", _STATUS_DESCRIPTION_LIMIT, self._scrubber)
            span.set_status(trace.Status(trace.StatusCode.ERROR, description))
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
