"""otel-ops: an OpenTelemetry observability pipeline for Python services.

``otel_ops.configure()`` wires traces, metrics and JSON logs with correlation ids to an OpenTelemetry
Collector over OTLP; ``otel_ops.instrument_fastapi(app)`` instruments a FastAPI app; ``llm_call`` and
``agent_run`` record GenAI work by the OpenTelemetry semantic conventions.
"""

from otel_ops._version import __version__
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


def shutdown(timeout: float | None = None) -> bool:
    """Flush and stop telemetry within ``timeout`` seconds (default ``OTEL_OPS_SHUTDOWN_TIMEOUT``)."""
    telemetry = current()
    return telemetry.shutdown(timeout) if telemetry is not None else True


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
