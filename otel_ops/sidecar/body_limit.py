"""Request bodies larger than ``OTEL_OPS_MAX_BODY_BYTES`` are refused with a 413 in the API's error shape.

A body whose ``Content-Length`` says it is too large is refused before the app runs and before any of it
is read; a body sent without one (chunked) is counted as it arrives and refused once it passes the limit,
so the sidecar never holds more than the limit of any body.  (FastAPI's own ``max_body_size`` answers
with a plain-text 413 that bypasses the app's error handlers, hence this middleware.)
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from otel_ops.sidecar.api_errors import body_too_large


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            response = JSONResponse({"detail": body_too_large(self.max_body_bytes)}, status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Reaches the app's exception handlers like any HTTPException raised by a route.
                    raise HTTPException(413, detail=body_too_large(self.max_body_bytes))
            return message

        await self.app(scope, receive_within_limit, send)
