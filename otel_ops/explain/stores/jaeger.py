"""Jaeger v2's query API as a trace store.

``/api/v3/traces/<id>`` answers OTLP JSON (``{"result": {"resourceSpans": [...]}}``) and 404 for an
unknown trace; searching by a span attribute uses the classic API (``/api/traces?service=…&tags=…``),
whose v3 counterpart does not filter by attribute. The web UI is not part of Jaeger's Go module (its ``/``
is a placeholder page), so links point at the API.
"""

from __future__ import annotations

import json

import httpx

from otel_ops.explain import otlp_json
from otel_ops.explain.model import Link, Span, Window
from otel_ops.explain.stores.http import StoreHttp

#: Jaeger lists itself as a service when it traces its own queries; its traces are never the ones asked for.
_OWN_SERVICES = frozenset({"jaeger", "jaeger-query", "jaeger-all-in-one"})


class JaegerStore:
    name = "Jaeger"

    def __init__(self, url: str, http: httpx.Client) -> None:
        self._http = StoreHttp(self.name, url, http)
        self.url = self._http.url

    def trace(self, trace_id: str) -> list[Span] | None:
        path = f"/api/v3/traces/{trace_id}"
        body = self._http.json("GET", path, allow_not_found=True)
        if body is None:
            return None
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, dict):
            raise self._http.unreadable(path, str(body))
        return otlp_json.spans(result.get("resourceSpans")) or None

    def services(self) -> list[str]:
        body = self._http.json("GET", "/api/v3/services")
        return [str(s) for s in (body or {}).get("services") or [] if str(s) not in _OWN_SERVICES]

    def find_trace_ids(self, attribute: str, value: str, window: Window, limit: int) -> list[str]:
        found: list[str] = []
        for service in self.services():
            body = self._http.json(
                "GET",
                "/api/traces",
                params={
                    "service": service,
                    "tags": json.dumps({attribute: value}),
                    "start": int(window.start * 1e6),
                    "end": int(window.end * 1e6),
                    "limit": limit,
                },
                allow_not_found=True,
            )
            for trace in (body or {}).get("data") or []:
                trace_id = str(trace.get("traceID", "")).lower().rjust(32, "0")
                if trace_id.strip("0") and trace_id not in found:
                    found.append(trace_id)
        return found[:limit]

    def trace_links(self, trace_id: str, window: Window) -> list[Link]:
        return [
            Link("Jaeger API: the trace as OTLP JSON", f"{self.url}/api/v3/traces/{trace_id}", self.name),
            Link("Jaeger API: the trace as Jaeger JSON", f"{self.url}/api/traces/{trace_id}", self.name),
        ]
