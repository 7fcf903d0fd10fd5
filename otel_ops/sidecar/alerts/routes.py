"""``/api/v1/alerts``: list, acknowledge, resolve, history, and Alertmanager's webhook receiver."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, Field

from otel_ops.sidecar.alerts import pointers
from otel_ops.sidecar.alerts.service import AlertService, summarize
from otel_ops.sidecar.auth import require_token

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], dependencies=[Depends(require_token)])


class AckRequest(BaseModel):
    author: str = Field(min_length=1, description="Who acknowledges (silence createdBy).")
    comment: str = Field(min_length=1, description="Why; becomes the silence comment.")
    expires: str = Field("2h", description="Duration ('30m', '2h', '1d') or ISO-8601 time in the future.")


class ResolveRequest(BaseModel):
    author: str = Field(min_length=1)
    comment: str = ""


def _service(request: Request) -> AlertService:
    return request.app.state.sidecar.alerts


@router.get("")
async def list_alerts(
    request: Request, filter: Annotated[list[str] | None, Query(description="Alertmanager matcher")] = None
) -> dict[str, Any]:
    return {"alerts": await _service(request).list(filter)}


@router.get("/history")
async def history(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    return {"entries": _service(request).history(limit, fingerprint)}


@router.post("/webhook")
async def webhook(request: Request, payload: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Alertmanager's notification: each firing alert is recorded with an exemplar trace id and the top
    error fingerprint of its series (looked up in Prometheus within the health-check timeout)."""
    remote = request.client.host if request.client else "unknown"
    service = _service(request)
    alerts = service.notification_alerts(payload)
    settings = request.app.state.sidecar.settings
    found = await pointers.lookup(str(settings.prometheus_url), alerts, timeout=settings.check_timeout)
    return {"received": service.record_notification(payload, remote, found)}


@router.get("/{fingerprint}")
async def get_alert(request: Request, fingerprint: str) -> dict[str, Any]:
    return summarize(await _service(request).find(fingerprint))


@router.post("/{fingerprint}/ack", status_code=201)
async def acknowledge(request: Request, fingerprint: str, body: AckRequest) -> dict[str, Any]:
    return await _service(request).acknowledge(
        fingerprint, author=body.author, comment=body.comment, expires=body.expires
    )


@router.post("/{fingerprint}/resolve")
async def resolve(request: Request, fingerprint: str, body: ResolveRequest) -> dict[str, Any]:
    return await _service(request).resolve(fingerprint, author=body.author, comment=body.comment)
