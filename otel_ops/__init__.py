"""otel-ops: an OpenTelemetry observability pipeline for Python services.

``otel_ops.configure()`` wires traces, metrics and JSON logs with correlation ids to an OpenTelemetry
Collector over OTLP; ``otel_ops.instrument_fastapi(app)`` instruments a FastAPI app; ``llm_call`` and
``agent_run`` record GenAI work by the OpenTelemetry semantic conventions.

The names below load their modules on first use, so the ``otel-ops`` commands that need no
instrumentation (``up``, ``run``, ``alerts``, ...) start without the OpenTelemetry SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from otel_ops._lazy import lazy_names
from otel_ops._version import __version__

if TYPE_CHECKING:
    from otel_ops.config.settings import (
        ExportOptions,
        GenAIOptions,
        HttpOptions,
        LogsOptions,
        MetricsOptions,
        ScrubOptions,
        TracesOptions,
    )
    from otel_ops.instrumentation import (
        JsonFormatter,
        PriceTable,
        Telemetry,
        agent_run,
        configure,
        current,
        fingerprint,
        instrument_asgi,
        instrument_fastapi,
        llm_call,
        record_exception,
    )

__all__ = [
    "ExportOptions",
    "GenAIOptions",
    "HttpOptions",
    "JsonFormatter",
    "LogsOptions",
    "MetricsOptions",
    "PriceTable",
    "ScrubOptions",
    "Telemetry",
    "TracesOptions",
    "__version__",
    "agent_run",
    "configure",
    "current",
    "fingerprint",
    "instrument_asgi",
    "instrument_fastapi",
    "llm_call",
    "record_exception",
    "shutdown",
]

# Where each name of ``__all__`` not defined here lives: the option groups in the shared settings, the rest
# in the instrumentation.
_EXPORTS: dict[str, str] = {
    name: "otel_ops.config.settings" if name.endswith("Options") else "otel_ops.instrumentation"
    for name in __all__
    if name not in ("__version__", "shutdown")
}


__getattr__, __dir__ = lazy_names(__name__, globals(), _EXPORTS)


def shutdown(timeout: float | None = None) -> bool:
    """Flush and stop telemetry within ``timeout`` seconds (default ``OTEL_OPS_SHUTDOWN_TIMEOUT``)."""
    from otel_ops.instrumentation import current

    telemetry = current()
    return telemetry.shutdown(timeout) if telemetry is not None else True
