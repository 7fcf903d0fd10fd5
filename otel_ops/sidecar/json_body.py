"""Request bodies that cannot be parsed as JSON are a 422 saying why, whatever made them unparsable.

Starlette parses JSON with ``json.loads``, which raises ``RecursionError`` for a body nested about a
thousand levels deep and ``UnicodeDecodeError`` for bytes that are not UTF-8; FastAPI answers those with
a bare 400.  Routes of :class:`JSONBodyRoute` report them like any malformed JSON: a 422 whose message
names the problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class JSONBodyRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body)
            except json.JSONDecodeError:
                raise
            except RecursionError:
                raise json.JSONDecodeError("nested too deeply", "", 0) from None
            except ValueError as exc:  # bytes that are not UTF-8 (or UTF-16/32)
                raise json.JSONDecodeError(f"not UTF-8 text ({exc})", "", 0) from None
        return self._json


class JSONBodyRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(JSONBodyRequest(request.scope, request.receive))

        return handle
