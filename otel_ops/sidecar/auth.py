"""Bearer-token authentication for the sidecar's API.

With a token configured (``OTEL_OPS_API_TOKEN`` or ``OTEL_OPS_API_TOKEN_FILE``) every endpoint except
``/health/live``, ``/health/ready`` and (unless ``OTEL_OPS_METRICS_REQUIRE_AUTH``) ``/metrics`` needs
``Authorization: Bearer <token>``.  Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = 'Bearer realm="otel-ops"' + (f', error="{error}"' if error else "")
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": challenge})


def check_bearer(expected: str | None, authorization: str | None) -> None:
    """Raises 401 unless ``authorization`` carries the expected token; no token configured → open."""
    if expected is None:
        return
    if not authorization:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise _unauthorized("malformed Authorization header: expected 'Bearer <token>'", "invalid_request")
    if not hmac.compare_digest(credentials.strip().encode(), expected.encode()):
        raise _unauthorized("invalid bearer token", "invalid_token")


async def require_token(request: Request) -> None:
    """FastAPI dependency protecting a router."""
    check_bearer(request.app.state.sidecar.settings.token, request.headers.get("authorization"))
