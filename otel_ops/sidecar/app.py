"""The sidecar's FastAPI application: health, alerts, events, metrics and anomaly jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from otel_ops import _http as http_clients
from otel_ops._version import __version__
from otel_ops.sidecar.alerts import AlertmanagerClient, AlertService
from otel_ops.sidecar.alerts.routes import router as alerts_router
from otel_ops.sidecar.api_errors import error_responses, install_error_handlers
from otel_ops.sidecar.audit import AuditLog
from otel_ops.sidecar.auth import check_bearer, require_token
from otel_ops.sidecar.backup import BACKUP_METRICS, BackupSettings, add_backup_jobs
from otel_ops.sidecar.backup.api import router as backup_router
from otel_ops.sidecar.body_limit import BodySizeLimit
from otel_ops.sidecar.events import EventBus
from otel_ops.sidecar.health import Check, HealthService, build_checks
from otel_ops.sidecar.health.routes import open_router as health_open_router
from otel_ops.sidecar.health.routes import protected_router as health_router
from otel_ops.sidecar.metrics import SidecarMetrics
from otel_ops.sidecar.settings import SidecarSettings

_logger = logging.getLogger("otel_ops.sidecar")


@dataclass
class SidecarContext:
    settings: SidecarSettings
    metrics: SidecarMetrics
    events: EventBus
    audit: AuditLog
    http: httpx.AsyncClient
    health: HealthService
    alerts: AlertService
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


events_router = APIRouter(tags=["events"], dependencies=[Depends(require_token)])


@events_router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless stream of Server-Sent Events",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **error_responses(401, 422, inline=True),
    },
)
async def events(
    request: Request,
    types: Annotated[str | None, Query(description="Comma-separated: health, alert, anomaly")] = None,
) -> StreamingResponse:
    """Server-Sent Events: health status changes, alert notifications and actions, anomalies."""
    wanted = {t.strip() for t in types.split(",") if t.strip()} if types else None
    stream = request.app.state.sidecar.events.stream(wanted)
    return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


metrics_router = APIRouter(tags=["metrics"])


@metrics_router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {"description": "Prometheus text exposition format"},
        **error_responses(401, inline=True),
    },
)
async def metrics(request: Request) -> Response:
    context: SidecarContext = request.app.state.sidecar
    if context.settings.metrics_require_auth:
        check_bearer(context.settings.token, request.headers.get("authorization"))
    body = generate_latest(context.metrics.registry) + generate_latest(BACKUP_METRICS.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@contextlib.contextmanager
def _backup_schedule() -> Iterator[None]:
    """Scheduled backups, restore drills and retention (cron settings ``OTEL_OPS_BACKUP_*``)."""
    scheduler = BackgroundScheduler(daemon=True)
    try:
        add_backup_jobs(scheduler, BackupSettings())
        scheduler.start()
    except Exception:  # bad backup settings must not take health and alerts down with them
        _logger.exception("backup jobs not scheduled")
    try:
        yield
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)


def create_app(settings: SidecarSettings, *, extra_checks: Sequence[Check] = ()) -> FastAPI:
    """The application; dependencies are created when it starts (lifespan) and closed when it stops."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.token is None:
            _logger.warning("no API token configured (OTEL_OPS_API_TOKEN / _FILE): the sidecar API is open")
        metrics = SidecarMetrics()
        bus = EventBus()
        bus.bind(asyncio.get_running_loop())
        audit = AuditLog(settings.audit_log_path)
        async with http_clients.async_client(timeout=settings.check_timeout) as http:
            alertmanager = AlertmanagerClient(str(settings.alertmanager_url), http)
            runner = None
            if settings.anomaly_jobs_file is not None:
                # Loaded only when jobs are configured: the detectors and their state cost memory.
                from otel_ops.sidecar.jobs import AnomalyJobRunner, load_jobs

                runner = AnomalyJobRunner(
                    load_jobs(settings.anomaly_jobs_file),
                    prometheus_url=str(settings.prometheus_url),
                    alertmanager=alertmanager,
                    http=http,
                    metrics=metrics,
                    events=bus,
                )
            health = HealthService(
                [*build_checks(settings, http), *(runner.health_checks() if runner else ()), *extra_checks],
                timeout=settings.check_timeout,
                cache_ttl=settings.check_cache_ttl,
                metrics=metrics,
                events=bus,
            )
            context = SidecarContext(
                settings, metrics, bus, audit, http, health, AlertService(alertmanager, audit, bus)
            )
            app.state.sidecar = context
            context.tasks.append(asyncio.create_task(health.run_forever(settings.check_interval)))
            if runner is not None:
                context.tasks.extend(runner.start())
            try:
                with _backup_schedule():
                    yield
            finally:
                for task in context.tasks:
                    task.cancel()
                await asyncio.gather(*context.tasks, return_exceptions=True)
                if runner is not None:
                    runner.close()
                await health.aclose()  # its checks use the HTTP client closed next

    app = FastAPI(title="otel-ops sidecar", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_body_bytes=settings.max_body_bytes)
    app.include_router(health_open_router)
    app.include_router(metrics_router)
    app.include_router(health_router)
    app.include_router(alerts_router)
    app.include_router(events_router)
    app.include_router(backup_router, dependencies=[Depends(require_token)], responses=error_responses(401))
    return app
