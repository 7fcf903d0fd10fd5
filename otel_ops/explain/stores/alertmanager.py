"""Alertmanager's v2 API: the alerts it holds (active, silenced and inhibited ones)."""

from __future__ import annotations

from typing import Any

import httpx

from otel_ops.explain.stores.http import StoreHttp


class AlertmanagerStore:
    name = "Alertmanager"

    def __init__(self, url: str, http: httpx.Client) -> None:
        self._http = StoreHttp(self.name, url, http)
        self.url = self._http.url

    def alerts(self) -> list[dict[str, Any]]:
        params = {"active": "true", "silenced": "true", "inhibited": "true", "unprocessed": "true"}
        body = self._http.json("GET", "/api/v2/alerts", params=params)
        if not isinstance(body, list):
            raise self._http.unreadable("/api/v2/alerts", str(body))
        return [alert for alert in body if isinstance(alert, dict)]
