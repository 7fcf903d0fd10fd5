"""The two small interfaces ``explain`` needs from a trace store and a log store.

Adapters: :mod:`.jaeger` and :mod:`.tempo` (traces), :mod:`.victorialogs` and :mod:`.loki` (logs). Each
method raises :class:`~otel_ops.explain.errors.StoreUnavailable` when the store cannot answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from otel_ops.explain.model import Link, LogRecord, Span, Window


class TraceStore(Protocol):
    name: str  # "Jaeger", "Tempo"
    url: str

    def trace(self, trace_id: str) -> list[Span] | None:
        """The spans of one trace, or None when the store does not have it."""
        ...

    def find_trace_ids(self, attribute: str, value: str, window: Window, limit: int) -> list[str]:
        """Ids of traces with a span whose ``attribute`` equals ``value``, started within ``window``."""
        ...

    def trace_links(self, trace_id: str, window: Window) -> list[Link]:
        """Where a person can open this trace in the store."""
        ...


@dataclass
class LogSummary:
    """How many log records carried an error fingerprint, when, and from where."""

    count: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    services: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    exact: bool = True  # False when counted from a limited sample


class LogStore(Protocol):
    name: str  # "VictoriaLogs", "Loki"
    url: str

    def trace_logs(self, trace_id: str, window: Window, limit: int) -> list[LogRecord]:
        """The log records of one trace, oldest first."""
        ...

    def fingerprint_logs(self, fingerprint: str, window: Window, limit: int) -> list[LogRecord]:
        """Log records carrying an error fingerprint, newest first."""
        ...

    def fingerprint_summary(self, fingerprint: str, window: Window) -> LogSummary: ...

    def trace_log_links(self, trace_id: str, window: Window) -> list[Link]: ...

    def fingerprint_log_links(self, fingerprint: str, window: Window) -> list[Link]: ...
