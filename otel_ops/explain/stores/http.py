"""HTTP requests to a store, with every failure turned into a :class:`StoreUnavailable` naming it."""

from __future__ import annotations

import json
from typing import Any

import httpx

from otel_ops.explain.errors import StoreUnavailable


class StoreHttp:
    """Requests to one store (``name`` at ``url``) through a shared :class:`httpx.Client`."""

    def __init__(self, name: str, url: str, http: httpx.Client) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.http = http

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        allow_not_found: bool = False,
    ) -> httpx.Response | None:
        """The response, or None for a 404 when ``allow_not_found``; StoreUnavailable otherwise."""
        try:
            response = self.http.request(
                method, f"{self.url}{path}", params=params, data=data, headers=headers
            )
        except httpx.TimeoutException:
            raise StoreUnavailable(self.name, self.url, f"did not answer {path} in time") from None
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise StoreUnavailable(self.name, self.url, f"is not reachable ({reason})") from None
        if response.status_code == 404 and allow_not_found:
            return None
        if response.status_code >= 400:
            body = " ".join(response.text.split())[:300]
            raise StoreUnavailable(
                self.name,
                self.url,
                f"answered {method} {path} with HTTP {response.status_code}: {body}",
                hint=f"Check that {self.url} is {self.name} (and its version supports {path}).",
            )
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON body (None for an allowed 404)."""
        response = self.request(method, path, **kwargs)
        if response is None:
            return None
        try:
            return response.json()
        except ValueError:
            raise self.unreadable(path, response.text) from None

    def json_lines(self, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        """A body of one JSON object per line (VictoriaLogs' answers)."""
        response = self.request(method, path, **kwargs)
        if response is None:
            return []
        rows = []
        for line in response.text.splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise self.unreadable(path, line) from None
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def unreadable(self, path: str, body: str) -> StoreUnavailable:
        return StoreUnavailable(
            self.name,
            self.url,
            f"answered {path} with something that is not the expected JSON: {' '.join(body.split())[:200]}",
            hint=f"Check that {self.url} is {self.name}.",
        )
