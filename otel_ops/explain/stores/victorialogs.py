"""VictoriaLogs as a log store: LogsQL on ``/select/logsql/query``, links to its web UI (vmui).

OTLP log records arrive with every attribute as a field of its own (``trace_id``, ``span_id``,
``severity_text``, ``request.id``, ``exception.type``, ``exception.fingerprint``, …); the answer is one
JSON object per line with ``_msg``, ``_time`` and ``_stream`` besides those fields.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

import httpx

from otel_ops.explain.model import Link, LogRecord, Window, iso, rfc3339_nanos
from otel_ops.explain.stores.http import StoreHttp
from otel_ops.explain.stores.protocols import LogSummary

# Fields of every record that say nothing about the event (resource details of the process).
_NOISE_PREFIXES = ("_stream", "telemetry.", "process.", "host.", "os.")
_NOISE = frozenset({"scope.version", "severity_number", "service.instance.id", "deployment.environment.name"})
_KNOWN = frozenset(
    {
        "_msg",
        "_time",
        "service.name",
        "severity_text",
        "trace_id",
        "span_id",
        "request.id",
        "scope.name",
        "exception.type",
        "exception.message",
        "exception.fingerprint",
        "exception.stacktrace",
    }
)


def _text(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    return str(value) if value not in (None, "") else None


def record(row: dict[str, Any]) -> LogRecord:
    return LogRecord(
        time_unix_nano=rfc3339_nanos(str(row.get("_time", "1970-01-01T00:00:00Z"))),
        message=str(row.get("_msg", "")).rstrip("\n"),
        severity=str(row.get("severity_text", "")),
        service=str(row.get("service.name", "")),
        trace_id=_text(row, "trace_id"),
        span_id=_text(row, "span_id"),
        request_id=_text(row, "request.id"),
        logger=_text(row, "scope.name"),
        exception_type=_text(row, "exception.type"),
        exception_message=_text(row, "exception.message"),
        fingerprint=_text(row, "exception.fingerprint"),
        stacktrace=_text(row, "exception.stacktrace"),
        attributes={
            key: value
            for key, value in row.items()
            if key not in _KNOWN and key not in _NOISE and not key.startswith(_NOISE_PREFIXES)
        },
    )


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def vmui_url(base: str, query: str, window: Window) -> str:
    """vmui with ``query`` over ``window`` (its own URL parameters: ``query``, ``g0.*``)."""
    end = dt.datetime.fromtimestamp(window.end, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    params = {
        "query": query,
        "g0.range_input": f"{max(1, round(window.seconds / 60))}m",
        "g0.end_input": end,
        "g0.relative_time": "none",
    }
    return f"{base}/select/vmui/#/?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"


class VictoriaLogsStore:
    name = "VictoriaLogs"

    def __init__(self, url: str, http: httpx.Client) -> None:
        self._http = StoreHttp(self.name, url, http)
        self.url = self._http.url

    def query(self, logsql: str, window: Window, limit: int | None = None) -> list[dict[str, Any]]:
        data = {"query": logsql, "start": iso(window.start), "end": iso(window.end)}
        if limit is not None:
            data["limit"] = str(limit)
        return self._http.json_lines("POST", "/select/logsql/query", data=data)

    @staticmethod
    def trace_query(trace_id: str) -> str:
        return f"trace_id:={quote(trace_id)}"

    @staticmethod
    def fingerprint_query(fingerprint: str) -> str:
        return f"exception.fingerprint:={quote(fingerprint)}"

    def trace_logs(self, trace_id: str, window: Window, limit: int) -> list[LogRecord]:
        rows = self.query(f"{self.trace_query(trace_id)} | sort by (_time) | limit {limit}", window)
        return sorted((record(row) for row in rows), key=lambda r: r.time_unix_nano)

    def fingerprint_logs(self, fingerprint: str, window: Window, limit: int) -> list[LogRecord]:
        rows = self.query(
            f"{self.fingerprint_query(fingerprint)} | sort by (_time desc) | limit {limit}", window
        )
        return sorted((record(row) for row in rows), key=lambda r: r.time_unix_nano, reverse=True)

    def fingerprint_summary(self, fingerprint: str, window: Window) -> LogSummary:
        rows = self.query(
            f"{self.fingerprint_query(fingerprint)} | stats by (service.name, exception.type) "
            "count() hits, min(_time) first, max(_time) last",
            window,
        )
        summary = LogSummary()
        for row in rows:
            summary.count += int(row.get("hits") or 0)
            first, last = row.get("first"), row.get("last")
            if first:
                seen = rfc3339_nanos(str(first)) / 1e9
                summary.first_seen = seen if summary.first_seen is None else min(summary.first_seen, seen)
            if last:
                seen = rfc3339_nanos(str(last)) / 1e9
                summary.last_seen = seen if summary.last_seen is None else max(summary.last_seen, seen)
            if row.get("service.name") and row["service.name"] not in summary.services:
                summary.services.append(str(row["service.name"]))
            if row.get("exception.type") and row["exception.type"] not in summary.types:
                summary.types.append(str(row["exception.type"]))
        return summary

    def trace_log_links(self, trace_id: str, window: Window) -> list[Link]:
        query = self.trace_query(trace_id)
        return [Link("VictoriaLogs UI: the trace's logs", vmui_url(self.url, query, window), self.name)]

    def fingerprint_log_links(self, fingerprint: str, window: Window) -> list[Link]:
        query = self.fingerprint_query(fingerprint)
        return [Link("VictoriaLogs UI: logs with this error", vmui_url(self.url, query, window), self.name)]
