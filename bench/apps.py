"""The three variants of one trivial FastAPI endpoint that the instrumentation benchmark compares.

``BENCH_VARIANT`` picks: ``none`` (uninstrumented, stdlib text logging), ``stock`` (the usual OpenTelemetry
setup: contrib FastAPI instrumentation, SDK batch processors, OTLP/HTTP exporters, the SDK logging handler),
``otel-ops`` (``otel_ops.configure(app=app)``). Each logs one INFO line per request.
"""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

VARIANT = os.environ.get("BENCH_VARIANT", "none")
log = logging.getLogger("bench.app")
app = FastAPI()


@app.get("/work/{item}")
async def work(item: int) -> dict[str, int]:
    log.info("handled item %d", item)
    return {"item": item}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def _stock() -> None:
    from opentelemetry import _logs, metrics, trace
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": "bench-stock"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(
        MeterProvider(resource=resource, metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())])
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    _logs.set_logger_provider(logger_provider)
    logging.getLogger().addHandler(LoggingHandler(logger_provider=logger_provider))
    FastAPIInstrumentor.instrument_app(app)

    @app.on_event("shutdown")
    def flush() -> None:
        tracer_provider.shutdown()
        logger_provider.shutdown()
        metrics.get_meter_provider().shutdown()  # type: ignore[attr-defined]


if VARIANT == "none":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
elif VARIANT == "stock":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    _stock()
elif VARIANT == "otel-ops":
    import otel_ops

    otel_ops.configure(app=app)
else:
    raise SystemExit(f"unknown BENCH_VARIANT {VARIANT!r}: use none, stock or otel-ops")
