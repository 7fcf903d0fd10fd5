"""Error answers of the sidecar's API: one JSON shape for every error, documented on every route.

Every 4xx and 5xx the API gives is ``{"detail": "<what is wrong and how to fix it>"}``; a 422 also lists
one message per invalid field in ``errors``.  :func:`error_responses` documents the statuses a route
answers with in its OpenAPI description; :func:`install_error_handlers` makes the answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from otel_ops.sidecar.alerts import AlertmanagerError, AlertRequestError


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    detail: str = Field(description="What is wrong and how to fix it.")
    errors: list[str] | None = Field(None, description="422 only: one message per invalid field.")


_DESCRIPTIONS = {
    400: "The request cannot be carried out as asked (the message says why)",
    401: "Missing, malformed or wrong bearer token (OTEL_OPS_API_TOKEN)",
    404: "No such alert or snapshot",
    409: "The backup repository is not in a state for this (not initialised, damaged, restore refused)",
    413: "Request body larger than OTEL_OPS_MAX_BODY_BYTES",
    422: "Invalid parameters or body: one message per invalid field",
    502: "Alertmanager (or restic) could not be reached or failed",
    503: "A tool the backups need is missing or cannot open the repository",
}


def error_responses(*statuses: int, inline: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, all with :class:`ErrorResponse` as JSON.

    ``inline`` for routes whose own answers are not JSON (health, metrics, events): the schema is then
    written out under ``application/json`` instead of taking the route's media type.
    """
    if inline:
        content = {"application/json": {"schema": ErrorResponse.model_json_schema()}}
        return {status: {"description": _DESCRIPTIONS[status], "content": content} for status in statuses}
    return {status: {"description": _DESCRIPTIONS[status], "model": ErrorResponse} for status in statuses}


def _validation_message(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error") or error.get("msg")
        return f"body is not valid JSON: {reason}"
    message = str(error.get("msg")).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def body_too_large(limit: int) -> str:
    """The 413 message."""
    return (
        f"request body is larger than the sidecar accepts ({limit} bytes); "
        "raise OTEL_OPS_MAX_BODY_BYTES if such bodies are expected"
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AlertRequestError)
    async def _bad_alert_request(_: Request, exc: AlertRequestError) -> JSONResponse:
        if exc.status == 422:
            return JSONResponse({"detail": str(exc), "errors": [str(exc)]}, status_code=422)
        return _error(exc.status, str(exc))

    @app.exception_handler(AlertmanagerError)
    async def _alertmanager(_: Request, exc: AlertmanagerError) -> JSONResponse:
        status = 400 if exc.status is not None and 400 <= exc.status < 500 else 502
        return _error(status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        messages = [_validation_message(e) for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(messages), "errors": messages}, status_code=422)
