"""Grafana Loki as a log store: LogQL on ``/loki/api/v1/query_range``.

OTLP logs land in Loki with ``service.name`` as the stream label ``service_name`` and the other
attributes, ``trace_id`` and ``span_id`` as structured metadata (dots become underscores). A query answers
``{"status": "success", "data": {"resultType": "streams", "result": [{"stream": {labels}, "values":
[["<ns>", "<line>"], ...]}]}}``; structured metadata comes back among the stream's labels (or, when the
categorised encoding is asked for, as a third element of each value).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import httpx

from otel_ops.explain.model import Link, LogRecord, Window
from otel_ops.explain.stores.http import StoreHttp
from otel_ops.explain.stores.protocols import LogSummary

#: Enough to count a fingerprint in one query; past it the summary says the count is a lower bound.
SUMMARY_LIMIT = 5000
_KNOWN = frozenset(
    {
        "service_name",
        "severity_text",
        "detected_level",
        "level",
        "trace_id",
        "span_id",
        "request_id",
        "scope_name",
        "exception_type",
        "exception_message",
        "exception_fingerprint",
        "exception_stacktrace",
    }
)
_NOISE_PREFIXES = ("telemetry_", "process_", "host_", "os_")
_NOISE = frozenset({"scope_version", "severity_number", "service_instance_id", "deployment_environment_name"})


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _labels(stream: dict[str, Any], extra: Any) -> dict[str, str]:
    labels = {str(k): str(v) for k, v in (stream or {}).items()}
    if isinstance(extra, dict):
        for group in ("structuredMetadata", "parsed"):
            labels.update({str(k): str(v) for k, v in (extra.get(group) or {}).items()})
    return labels


def record(timestamp: str, line: str, labels: dict[str, str]) -> LogRecord:
    get = labels.get
    return LogRecord(
        time_unix_nano=int(timestamp),
        message=line.rstrip("\n"),
        severity=get("severity_text") or get("detected_level") or get("level") or "",
        service=get("service_name", ""),
        trace_id=get("trace_id"),
        span_id=get("span_id"),
        request_id=get("request_id"),
        logger=get("scope_name"),
        exception_type=get("exception_type"),
        exception_message=get("exception_message"),
        fingerprint=get("exception_fingerprint"),
        stacktrace=get("exception_stacktrace"),
        attributes={
            key: value
            for key, value in labels.items()
            if key not in _KNOWN and key not in _NOISE and not key.startswith(_NOISE_PREFIXES)
        },
    )


class LokiStore:
    name = "Loki"

    def __init__(self, url: str, http: httpx.Client) -> None:
        self._http = StoreHttp(self.name, url, http)
        self.url = self._http.url

    @staticmethod
    def trace_query(trace_id: str) -> str:
        return f'{{service_name=~".+"}} | trace_id={quote(trace_id)}'

    @staticmethod
    def fingerprint_query(fingerprint: str) -> str:
        return f'{{service_name=~".+"}} | exception_fingerprint={quote(fingerprint)}'

    def query(self, logql: str, window: Window, limit: int, direction: str) -> list[LogRecord]:
        path = "/loki/api/v1/query_range"
        body = self._http.json(
            "GET",
            path,
            params={
                "query": logql,
                "start": int(window.start * 1e9),
                "end": int(window.end * 1e9),
                "limit": limit,
                "direction": direction,
            },
        )
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or body.get("status") != "success":
            raise self._http.unreadable(path, str(body))
        records = []
        for stream in data.get("result") or []:
            for value in stream.get("values") or []:
                extra = value[2] if len(value) > 2 else None
                records.append(record(value[0], value[1], _labels(stream.get("stream") or {}, extra)))
        return sorted(records, key=lambda r: r.time_unix_nano, reverse=direction == "backward")

    def trace_logs(self, trace_id: str, window: Window, limit: int) -> list[LogRecord]:
        return self.query(self.trace_query(trace_id), window, limit, "forward")

    def fingerprint_logs(self, fingerprint: str, window: Window, limit: int) -> list[LogRecord]:
        return self.query(self.fingerprint_query(fingerprint), window, limit, "backward")

    def fingerprint_summary(self, fingerprint: str, window: Window) -> LogSummary:
        records = self.fingerprint_logs(fingerprint, window, SUMMARY_LIMIT)
        times = [r.time_unix_nano / 1e9 for r in records]
        return LogSummary(
            count=len(records),
            first_seen=min(times) if times else None,
            last_seen=max(times) if times else None,
            services=sorted({r.service for r in records if r.service}),
            types=sorted({r.exception_type for r in records if r.exception_type}),
            exact=len(records) < SUMMARY_LIMIT,
        )

    def _api_link(self, title: str, logql: str, window: Window) -> Link:
        params = {"query": logql, "start": int(window.start * 1e9), "end": int(window.end * 1e9)}
        return Link(title, f"{self.url}/loki/api/v1/query_range?{urllib.parse.urlencode(params)}", self.name)

    def trace_log_links(self, trace_id: str, window: Window) -> list[Link]:
        return [self._api_link("Loki API: the trace's logs", self.trace_query(trace_id), window)]

    def fingerprint_log_links(self, fingerprint: str, window: Window) -> list[Link]:
        return [self._api_link("Loki API: logs with this error", self.fingerprint_query(fingerprint), window)]
