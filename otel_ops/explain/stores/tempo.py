"""Grafana Tempo's HTTP API as a trace store.

``GET /api/v2/traces/<id>`` answers ``{"trace": {"resourceSpans": [...]}, ...}``; older versions only have
``GET /api/traces/<id>``, answering the trace itself (``{"batches": [...]}``, newer ``resourceSpans``).
Either answers 404 for an unknown trace. Ids in Tempo's JSON are base64. Search is TraceQL on
``GET /api/search?q=…``, answering ``{"traces": [{"traceID": …}, …]}``.
"""

from __future__ import annotations

from typing import Any

import httpx

from otel_ops.explain import otlp_json
from otel_ops.explain.model import Link, Span, Window
from otel_ops.explain.stores.http import StoreHttp


def _resource_spans(trace: Any) -> list[dict[str, Any]] | None:
    if not isinstance(trace, dict):
        return None
    spans = trace.get("resourceSpans", trace.get("batches"))
    return spans if isinstance(spans, list) else None


class TempoStore:
    name = "Tempo"

    def __init__(self, url: str, http: httpx.Client) -> None:
        self._http = StoreHttp(self.name, url, http)
        self.url = self._http.url

    def trace(self, trace_id: str) -> list[Span] | None:
        body = self._http.json("GET", f"/api/v2/traces/{trace_id}", allow_not_found=True)
        if body is not None:
            resource_spans = _resource_spans(body.get("trace") if isinstance(body, dict) else None)
            if resource_spans is None and isinstance(body, dict) and not body.get("trace"):
                return None  # answered, without a trace
            if resource_spans is None:
                raise self._http.unreadable(f"/api/v2/traces/{trace_id}", str(body))
            return otlp_json.spans(resource_spans) or None
        body = self._http.json("GET", f"/api/traces/{trace_id}", allow_not_found=True)
        if body is None:
            return None
        resource_spans = _resource_spans(body)
        if resource_spans is None:
            raise self._http.unreadable(f"/api/traces/{trace_id}", str(body))
        return otlp_json.spans(resource_spans) or None

    def find_trace_ids(self, attribute: str, value: str, window: Window, limit: int) -> list[str]:
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        body = self._http.json(
            "GET",
            "/api/search",
            params={
                "q": f'{{ span.{attribute} = "{quoted}" }}',
                "start": int(window.start),
                "end": int(window.end) + 1,
                "limit": limit,
            },
        )
        found: list[str] = []
        for trace in (body or {}).get("traces") or []:
            trace_id = str(trace.get("traceID", "")).lower().rjust(32, "0")
            if trace_id.strip("0") and trace_id not in found:
                found.append(trace_id)
        return found[:limit]

    def trace_links(self, trace_id: str, window: Window) -> list[Link]:
        return [Link("Tempo API: the trace", f"{self.url}/api/v2/traces/{trace_id}", self.name)]
