"""Checking what a user typed: trace ids, error fingerprints, alert references and durations."""

from __future__ import annotations

import re

from otel_ops.explain.errors import InvalidArgument

_HEX = re.compile(r"^[0-9a-f]+$")
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_DURATION_UNITS = (7 * 86400, 86400, 3600, 60, 1)
_ALERT_REFERENCE = re.compile(r"^[A-Za-z0-9_:.\-]+$")


def trace_id(text: str) -> str:
    """A W3C trace id as 32 lower-case hex digits (16 digits, as some tools print them, are padded)."""
    value = text.strip().lower().removeprefix("0x")
    if not value or not _HEX.match(value) or len(value) not in (16, 32):
        raise InvalidArgument(
            f"malformed trace id {text!r}",
            "A trace id is 32 hexadecimal digits, as in a traceparent header "
            "(00-<trace id>-<span id>-01) or the trace_id field of a log line.",
        )
    value = value.rjust(32, "0")
    if set(value) == {"0"}:
        raise InvalidArgument(f"invalid trace id {text!r}", "The all-zero trace id is never used by a trace.")
    return value


def fingerprint(text: str) -> str:
    """An error fingerprint: hexadecimal digits, as otel-ops writes them (16 of them)."""
    value = text.strip().lower()
    if not value or not _HEX.match(value) or not 8 <= len(value) <= 64:
        raise InvalidArgument(
            f"malformed error fingerprint {text!r}",
            "An error fingerprint is 16 hexadecimal digits: the error.fingerprint of a span, the "
            "exception.fingerprint of a log record or the error_fingerprint label of app_errors_total.",
        )
    return value


def alert_reference(text: str) -> str:
    """An alert name or an Alertmanager fingerprint (or a prefix of one)."""
    value = text.strip()
    if not value or not _ALERT_REFERENCE.match(value):
        raise InvalidArgument(
            f"malformed alert {text!r}",
            "Give an alert name (e.g. SLOErrorBudgetBurnFast) or its Alertmanager fingerprint, as shown by "
            "`otel-ops alerts list`.",
        )
    return value


def duration_seconds(text: str, what: str = "duration") -> float:
    """``90s``, ``15m``, ``2h``, ``1d``, ``1w`` (or combinations like ``1h30m``) in seconds."""
    value = text.strip().lower()
    match = _DURATION.match(value) if value else None
    if not match or not any(match.groups()):
        raise InvalidArgument(
            f"invalid {what} {text!r}", "Give a duration such as 90s, 15m, 2h, 1d or 1h30m."
        )
    seconds = sum(int(part or 0) * unit for part, unit in zip(match.groups(), _DURATION_UNITS, strict=True))
    if seconds <= 0:
        raise InvalidArgument(f"invalid {what} {text!r}", "The duration must be longer than zero.")
    return float(seconds)
