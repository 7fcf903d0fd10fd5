"""A small client for the Prometheus HTTP API (instant queries, exemplars, metric names)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


class PrometheusQueryError(RuntimeError):
    """Prometheus could not be reached or refused a query."""


@dataclass(frozen=True)
class PrometheusClient:
    url: str
    timeout: float = 5.0

    def api(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=self.timeout) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise PrometheusQueryError(f"{path} {params}: HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise PrometheusQueryError(f"Prometheus at {self.url} is not reachable: {exc}") from exc
        if payload.get("status") != "success":
            raise PrometheusQueryError(f"{path} {params}: {payload.get('error', payload)}")
        return payload["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Instant vector query; each result has ``metric`` (labels) and ``value`` ([time, "number"])."""
        return list(self.api("/api/v1/query", query=promql)["result"])

    def exemplars(self, promql: str, window_s: float = 900.0) -> list[dict[str, Any]]:
        now = time.time()
        return list(self.api("/api/v1/query_exemplars", query=promql, start=now - window_s, end=now + 60))

    def metric_names(self) -> list[str]:
        return [str(name) for name in self.api("/api/v1/label/__name__/values")]
