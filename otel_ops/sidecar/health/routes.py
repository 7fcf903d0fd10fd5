"""Health endpoints: ``/health/live`` and ``/health/ready`` (open), ``/health`` and ``/health/detailed``."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from otel_ops._version import __version__
from otel_ops.sidecar.api_errors import error_responses
from otel_ops.sidecar.auth import require_token
from otel_ops.sidecar.health.model import HEALTH_MEDIA_TYPE, CheckResult, Status, http_status, overall

SERVICE_ID = "otel-ops-sidecar"


class HealthJSONResponse(JSONResponse):
    media_type = HEALTH_MEDIA_TYPE


class CheckReport(BaseModel):
    componentId: str
    componentType: str
    status: Literal["pass", "warn", "fail"]
    time: str
    critical: bool
    observedValue: float | int | str | None = None
    observedUnit: str | None = None
    output: str | None = None


class HealthReport(BaseModel):
    """IETF health-check draft body; ``checks`` keyed ``component:measurement`` (detailed only)."""

    status: Literal["pass", "warn", "fail"]
    version: str
    serviceId: str
    description: str
    notes: list[str] | None = None
    checks: dict[str, list[CheckReport]] | None = None


_FAILING: dict[int | str, dict[str, Any]] = {
    503: {"model": HealthReport, "description": "fail: a critical check fails"}
}

open_router = APIRouter(tags=["health"], default_response_class=HealthJSONResponse)
protected_router = APIRouter(
    tags=["health"],
    dependencies=[Depends(require_token)],
    default_response_class=HealthJSONResponse,
    responses={**_FAILING, **error_responses(401, inline=True)},
)


def _response(status: Status, body: dict[str, Any]) -> JSONResponse:
    payload = {"status": status.value, "version": __version__, "serviceId": SERVICE_ID, **body}
    return HealthJSONResponse(payload, status_code=http_status(status))


def _notes(results: list[CheckResult]) -> list[str]:
    return [
        f"{r.check.key} ({r.check.component_id}): {r.status.value}"
        + (" [critical]" if r.check.critical else "")
        for r in results
        if r.status is not Status.PASS
    ]


@open_router.get("/health/live", response_model=HealthReport)
async def live() -> JSONResponse:
    """The process answers: never looks at a dependency."""
    return _response(Status.PASS, {"description": "process is running"})


@open_router.get("/health/ready", responses=_FAILING, response_model=HealthReport)
async def ready(request: Request) -> JSONResponse:
    """Critical checks only (cached); 503 when one fails. Names no details: this endpoint is open."""
    results = await request.app.state.sidecar.health.results(critical_only=True)
    return _response(overall(results), {"description": "critical dependencies"})


@protected_router.get("/health", response_model=HealthReport)
async def summary(request: Request) -> JSONResponse:
    results = await request.app.state.sidecar.health.results()
    return _response(overall(results), {"description": "ops sidecar", "notes": _notes(results)})


@protected_router.get("/health/detailed", response_model=HealthReport)
async def detailed(request: Request) -> JSONResponse:
    results = await request.app.state.sidecar.health.results()
    checks: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        checks.setdefault(result.check.key, []).append(result.as_json())
    return _response(
        overall(results), {"description": "ops sidecar", "notes": _notes(results), "checks": checks}
    )
