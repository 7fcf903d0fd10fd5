"""FastAPI (and any ASGI app): otel-ops' middleware, installed once, outermost.

FastAPI has its own built-in OpenTelemetry support. On an instrumented app, whatever FastAPI would record
into otel-ops' own providers otel-ops records instead (one server span per request, with request ids,
fingerprints and scrubbing); whatever the app sends to providers of its own stays FastAPI's, as configured
(``_fastapi_native``).
"""

from __future__ import annotations

import logging
from typing import Any

from otel_ops.instrumentation._asgi import Coverage, TelemetryMiddleware
from otel_ops.instrumentation._fastapi_native import share_native_telemetry
from otel_ops.instrumentation._telemetry import Telemetry, configure, current

_logger = logging.getLogger("otel_ops")
_MARK = "_otel_ops_instrumented"


def _middleware(app: Any, telemetry: Telemetry, coverage: Coverage | None = None) -> TelemetryMiddleware:
    return TelemetryMiddleware(
        app,
        spans=telemetry.server_spans,
        metrics=telemetry.http_metrics,
        errors=telemetry.errors,
        excluded_paths=telemetry.http.excluded_paths or (),
        request_id_header=telemetry.http.request_id_header or "x-request-id",
        scrubber=telemetry.scrubber,
        on_shutdown=lambda: telemetry.flush(),
        coverage=coverage,
    )


def instrument_fastapi(app: Any, telemetry: Telemetry | None = None) -> Any:
    """Instrument a FastAPI or Starlette app in place (idempotent); configures telemetry if needed."""
    if getattr(app, _MARK, False):
        return app
    telemetry = telemetry or current() or configure()
    coverage = share_native_telemetry(app, telemetry.tracer_provider, telemetry.meter_provider)
    build = app.build_middleware_stack

    def build_with_telemetry() -> Any:
        return _middleware(build(), telemetry, coverage)

    app.build_middleware_stack = build_with_telemetry
    if getattr(app, "middleware_stack", None) is not None:
        app.middleware_stack = build_with_telemetry()
    setattr(app, _MARK, True)
    return app


def instrument_asgi(app: Any, telemetry: Telemetry | None = None) -> TelemetryMiddleware:
    """Wrap any ASGI application (for frameworks other than FastAPI/Starlette)."""
    return _middleware(app, telemetry or current() or configure())


def auto_instrument_fastapi() -> None:
    """Instrument every FastAPI app created from now on (used by ``otel-ops run``, once the program has
    imported FastAPI)."""
    try:
        from fastapi import FastAPI
    except ImportError:
        return
    if getattr(FastAPI.__init__, _MARK, False):
        return
    original = FastAPI.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        instrument_fastapi(self)

    setattr(__init__, _MARK, True)
    FastAPI.__init__ = __init__  # type: ignore[method-assign]
