"""A small async client for Alertmanager's v2 API (alerts and silences)."""

from __future__ import annotations

from typing import Any

import httpx


class AlertmanagerError(Exception):
    """Alertmanager rejected a request (``status`` is its HTTP status) or could not be reached (``None``)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AlertmanagerClient:
    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/api/v2{path}"
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise AlertmanagerError(
                f"Alertmanager at {self.base_url} is unreachable: {exc or type(exc).__name__}"
            ) from None
        if not response.is_success:
            raise AlertmanagerError(
                f"Alertmanager answered {method} {path} with HTTP {response.status_code}: "
                f"{response.text.strip()}",
                response.status_code,
            )
        return response.json() if response.content else None

    async def alerts(
        self, *, filters: list[str] | None = None, silenced: bool = True
    ) -> list[dict[str, Any]]:
        params: list[tuple[str, str | bool]] = [("silenced", str(silenced).lower()), ("active", "true")]
        params += [("filter", f) for f in filters or []]
        return list(await self._request("GET", "/alerts", params=params))

    async def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        await self._request("POST", "/alerts", json=alerts)

    async def create_silence(self, silence: dict[str, Any]) -> str:
        answer = await self._request("POST", "/silences", json=silence)
        return str(answer["silenceID"])

    async def silences(self, filters: list[str] | None = None) -> list[dict[str, Any]]:
        """Silences (every state) whose matchers include each ``name="value"`` filter."""
        return list(await self._request("GET", "/silences", params=[("filter", f) for f in filters or []]))

    async def silence(self, silence_id: str) -> dict[str, Any]:
        return dict(await self._request("GET", f"/silence/{silence_id}"))

    async def expire_silence(self, silence_id: str) -> None:
        await self._request("DELETE", f"/silence/{silence_id}")
