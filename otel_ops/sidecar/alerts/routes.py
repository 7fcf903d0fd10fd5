"""``/api/v1/alerts``: list, acknowledge, resolve, history, and Alertmanager's webhook receiver."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from otel_ops.sidecar.alerts import pointers
from otel_ops.sidecar.alerts.models import (
    Acknowledgement,
    AckRequest,
    AlertList,
    AlertSummary,
    History,
    Resolution,
    ResolveRequest,
    WebhookReceipt,
)
from otel_ops.sidecar.alerts.service import AlertService, summarize
from otel_ops.sidecar.alerts.webhook import WebhookPayload
from otel_ops.sidecar.api_errors import error_responses
from otel_ops.sidecar.auth import require_token
from otel_ops.sidecar.json_body import JSONBodyRoute

router = APIRouter(
    prefix="/api/v1/alerts",
    tags=["alerts"],
    dependencies=[Depends(require_token)],
    route_class=JSONBodyRoute,
    responses=error_responses(401, 422),
)


def _service(request: Request) -> AlertService:
    return request.app.state.sidecar.alerts


@router.get("", response_model=AlertList, responses=error_responses(400, 502))
async def list_alerts(
    request: Request, filter: Annotated[list[str] | None, Query(description="Alertmanager matcher")] = None
) -> dict[str, Any]:
    return {"alerts": await _service(request).list(filter)}


@router.get("/history", response_model=History)
async def history(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    return {"entries": _service(request).history(limit, fingerprint)}


@router.post("/webhook", response_model=WebhookReceipt, responses=error_responses(413))
async def webhook(request: Request, payload: WebhookPayload) -> dict[str, Any]:
    """Alertmanager's notification: each firing alert is recorded with an exemplar trace id and the top
    error fingerprint of its series (looked up in Prometheus within the health-check timeout)."""
    remote = request.client.host if request.client else "unknown"
    settings = request.app.state.sidecar.settings
    alerts = [alert.model_dump() for alert in payload.alerts]
    found = await pointers.lookup(str(settings.prometheus_url), alerts, timeout=settings.check_timeout)
    return {"received": _service(request).record_notification(payload, remote, found)}


@router.get("/{fingerprint}", response_model=AlertSummary, responses=error_responses(400, 404, 502))
async def get_alert(request: Request, fingerprint: str) -> dict[str, Any]:
    return summarize(await _service(request).find(fingerprint))


@router.post(
    "/{fingerprint}/ack",
    status_code=201,
    response_model=Acknowledgement,
    responses={
        200: {"model": Acknowledgement, "description": "Already acknowledged: kept or extended"},
        **error_responses(400, 404, 413, 502),
    },
)
async def acknowledge(
    request: Request, response: Response, fingerprint: str, body: AckRequest
) -> dict[str, Any]:
    """Acknowledge the alert: a silence of exactly its labels (201). An alert has one acknowledgement:
    acknowledging it again returns that one (200), extended when the new expiry is a minute or more later;
    it is never shortened (resolve the alert to end it)."""
    result = await _service(request).acknowledge(
        fingerprint, author=body.author, comment=body.comment, expires=body.expires
    )
    if result["outcome"] != "created":
        response.status_code = 200
    return result


@router.post(
    "/{fingerprint}/resolve", response_model=Resolution, responses=error_responses(400, 404, 413, 502)
)
async def resolve(request: Request, fingerprint: str, body: ResolveRequest) -> dict[str, Any]:
    return await _service(request).resolve(fingerprint, author=body.author, comment=body.comment)
