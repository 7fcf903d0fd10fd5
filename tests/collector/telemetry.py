"""Send traces, metrics and logs to a Collector as an instrumented service does (Python SDK, OTLP/HTTP)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

SECRET_API_KEY = "sk-proj-Zx81mQ2LrT5vW9yB3nK7"
SECRET_BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlMTIz"


@dataclass
class SentTelemetry:
    fast_trace_id: str  # ok and quick: only sampled probabilistically
    error_trace_id: str  # ends in an error: always kept
    slow_trace_id: str  # slower than the threshold: always kept
    log_trace_id: str  # the trace the log records were written in


class Service:
    """One service's SDK providers, exporting over OTLP/HTTP to ``endpoint``."""

    def __init__(self, name: str, endpoint: str) -> None:
        resource = Resource.create({"service.name": name, "service.version": "1.0.0"})
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(f"{endpoint}/v1/traces"))
        )
        self.tracer = self.tracer_provider.get_tracer("otel-ops-test")
        self.reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(f"{endpoint}/v1/metrics"), export_interval_millis=3_600_000
        )
        self.meter_provider = MeterProvider(resource=resource, metric_readers=[self.reader])
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(
            SimpleLogRecordProcessor(OTLPLogExporter(f"{endpoint}/v1/logs"))
        )
        self.logger = logging.getLogger(f"otel-ops-test.{name}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self.handler = LoggingHandler(logger_provider=self.logger_provider)
        self.logger.addHandler(self.handler)

    def shutdown(self) -> None:
        self.reader.force_flush()
        self.logger.removeHandler(self.handler)
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


def send_telemetry(endpoint: str) -> SentTelemetry:
    """Three traces from ``frontend`` calling ``checkout``, an app counter and logs with a trace context."""
    frontend = Service("frontend", endpoint)
    checkout = Service("checkout", endpoint)
    orders = checkout.meter_provider.get_meter("otel-ops-test").create_counter(
        "orders.placed", unit="{order}"
    )
    try:
        with (
            frontend.tracer.start_as_current_span("GET /cart", kind=SpanKind.CLIENT) as client,
            checkout.tracer.start_as_current_span("GET /cart", kind=SpanKind.SERVER),
        ):
            orders.add(1, {"payment.method": "card"})
        fast = client.get_span_context().trace_id

        with (
            frontend.tracer.start_as_current_span("POST /checkout", kind=SpanKind.CLIENT) as client,
            checkout.tracer.start_as_current_span("POST /checkout", kind=SpanKind.SERVER) as server,
        ):
            server.set_attribute("http.request.header.authorization", SECRET_BEARER)
            server.set_attribute("llm.prompt", f"use key {SECRET_API_KEY} please")
            checkout.logger.error("payment provider rejected key %s", SECRET_API_KEY)
            server.set_status(Status(StatusCode.ERROR, "payment failed"))
        error = client.get_span_context().trace_id

        now = time.time_ns()
        slow_span = checkout.tracer.start_span(
            "GET /report", kind=SpanKind.SERVER, start_time=now - 2_500_000_000
        )
        with trace.use_span(slow_span, end_on_exit=False):
            checkout.logger.info("report generated")
        slow_span.end(end_time=now)
        slow = slow_span.get_span_context().trace_id
    finally:
        frontend.shutdown()
        checkout.shutdown()
    return SentTelemetry(
        fast_trace_id=f"{fast:032x}",
        error_trace_id=f"{error:032x}",
        slow_trace_id=f"{slow:032x}",
        log_trace_id=f"{error:032x}",
    )
