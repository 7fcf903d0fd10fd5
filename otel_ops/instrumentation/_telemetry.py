"""``configure()``: build traces, metrics and logs from options + ``OTEL_*`` environment, once per process."""

from __future__ import annotations

import atexit
import functools
import importlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from otel_ops.config import _env
from otel_ops.config import settings as s
from otel_ops.instrumentation import _logging_setup
from otel_ops.instrumentation._asgi import HTTP_DURATION_BUCKETS
from otel_ops.instrumentation._batch import BatchQueue
from otel_ops.instrumentation._errors import ErrorRecorder
from otel_ops.instrumentation._genai import GenAIInstruments, PriceTable
from otel_ops.instrumentation._http_metrics import HttpServerMetrics, SdkHttpMetrics, attach_to_readers
from otel_ops.instrumentation._import_hooks import when_imported
from otel_ops.instrumentation._logs import encode_log_batch
from otel_ops.instrumentation._metrics import build_meter_provider, build_readers, reset_after_fork
from otel_ops.instrumentation._process_metrics import register_process_metrics
from otel_ops.instrumentation._resource import ProcessIdentity, build_resource
from otel_ops.instrumentation._scrub import Scrubber
from otel_ops.instrumentation._self_metrics import register_queue_metrics
from otel_ops.instrumentation._server_span import ServerSpanFactory
from otel_ops.instrumentation._traces import (
    QueuedSpanProcessor,
    build_tracer_provider,
    install_propagator,
    span_exporter,
)
from otel_ops.instrumentation._transport import Transport, transport_for

_logger = logging.getLogger("otel_ops")
_lock = threading.RLock()
_current: Telemetry | None = None
_OTLP_LIKE = ("otlp", "console")


@dataclass
class Telemetry:
    """What ``configure()`` set up; ``flush()`` and ``shutdown()`` take a deadline in seconds."""

    resource: Resource
    tracer_provider: TracerProvider | None
    meter_provider: MeterProvider | None
    http: s.HttpOptions
    scrubber: Scrubber | None
    shutdown_timeout: float
    errors: ErrorRecorder
    http_metrics: HttpServerMetrics | SdkHttpMetrics
    server_spans: ServerSpanFactory
    genai: GenAIInstruments
    queues: dict[str, BatchQueue[Any]] = field(default_factory=dict)
    transports: list[Transport] = field(default_factory=list)
    log_handlers: list[logging.Handler] = field(default_factory=list)
    disabled: bool = False
    _shut_down: bool = False

    @property
    def service_name(self) -> str:
        return str(self.resource.attributes.get("service.name", ""))

    def flush(self, timeout: float | None = None) -> bool:
        """Export everything recorded so far; gives up at the first failure or when ``timeout`` runs out."""
        deadline = time.monotonic() + (self.shutdown_timeout if timeout is None else timeout)
        delivered = True
        for queue in self.queues.values():
            delivered = queue.flush(deadline) and delivered
        if self.meter_provider is not None:
            remaining_ms = max(0.0, deadline - time.monotonic()) * 1000
            try:
                delivered = bool(self.meter_provider.force_flush(int(remaining_ms))) and delivered
            except Exception:  # the SDK raises when the deadline passes
                delivered = False
        return delivered

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop; bounded by ``timeout`` (default ``OTEL_OPS_SHUTDOWN_TIMEOUT``, 2 s)."""
        global _current
        with _lock:
            if self._shut_down:
                return True
            self._shut_down = True
        deadline = time.monotonic() + (self.shutdown_timeout if timeout is None else timeout)
        delivered = True
        for queue in self.queues.values():
            delivered = queue.shutdown(deadline) and delivered
        if self.meter_provider is not None:
            remaining_ms = max(0.0, deadline - time.monotonic()) * 1000
            try:
                self.meter_provider.shutdown(timeout_millis=remaining_ms)
            except Exception:  # the SDK raises when the deadline passes
                delivered = False
        for transport in self.transports:
            transport.close()
        _logging_setup.uninstall(self.log_handlers)
        with _lock:
            if _current is self:
                _current = None
        return delivered


def current() -> Telemetry | None:
    return _current


@dataclass(frozen=True)
class _Resolved:
    core: s.CoreOptions
    traces: s.TracesOptions
    metrics: s.MetricsOptions
    logs: s.LogsOptions
    http: s.HttpOptions
    scrub: s.ScrubOptions
    genai: s.GenAIOptions


def configure(
    *,
    service_name: str | None = None,
    service_version: str | None = None,
    environment: str | None = None,
    resource_attributes: dict[str, Any] | None = None,
    export: s.ExportOptions | None = None,
    traces: s.TracesOptions | None = None,
    metrics_options: s.MetricsOptions | None = None,
    logs: s.LogsOptions | None = None,
    http: s.HttpOptions | None = None,
    scrub: s.ScrubOptions | None = None,
    genai: s.GenAIOptions | None = None,
    shutdown_timeout: float | None = None,
    app: Any = None,
) -> Telemetry:
    """Set up traces, metrics and logs for this process; a second call returns the first result."""
    global _current
    with _lock:
        if _current is not None:
            if app is not None:
                from otel_ops.instrumentation._fastapi import instrument_fastapi

                instrument_fastapi(app, _current)
            return _current
        resolved = _Resolved(
            core=s.resolve(s.CoreOptions(service_name=service_name, shutdown_timeout=shutdown_timeout)),
            traces=s.resolve(traces or s.TracesOptions()),
            metrics=s.resolve(metrics_options or s.MetricsOptions()),
            logs=s.resolve(logs or s.LogsOptions()),
            http=s.resolve(http or s.HttpOptions()),
            scrub=s.resolve(scrub or s.ScrubOptions()),
            genai=s.resolve(genai or s.GenAIOptions()),
        )
        extra = dict(resource_attributes or {})
        if service_version:
            extra["service.version"] = service_version
        if environment:
            extra["deployment.environment.name"] = environment
        telemetry = _build(resolved, export or s.ExportOptions(), extra)
        _current = telemetry
    atexit.register(telemetry.shutdown)
    if app is not None:
        from otel_ops.instrumentation._fastapi import instrument_fastapi

        instrument_fastapi(app, telemetry)
    return telemetry


def _exporters(names: tuple[str, ...] | None, signal: str) -> tuple[str, ...]:
    chosen = []
    for name in names or ():
        allowed = (
            ("otlp", "console", "none", "prometheus") if signal == "metrics" else ("otlp", "console", "none")
        )
        if name not in allowed:
            _logger.warning(
                "Ignoring unknown %s exporter %r (expected one of %s)", signal, name, ", ".join(allowed)
            )
            continue
        if name != "none":
            chosen.append(name)
    return tuple(chosen)


def _valid_patterns(patterns: tuple[str, ...] | None) -> list[str]:
    """The extra scrub patterns that compile; each other one is warned about and left out (the built-in
    rules and the valid patterns still apply)."""
    valid = []
    for pattern in patterns or ():
        try:
            re.compile(pattern)
        except re.error as exc:
            _env.warn_invalid("OTEL_OPS_SCRUB_PATTERNS", pattern, f"not a regular expression ({exc})")
            continue
        valid.append(pattern)
    return valid


def _price_table(options: s.GenAIOptions) -> PriceTable:
    """The price table; a file that cannot be used is warned about, and costs come from the built-in table
    (plus prices given in code)."""
    if options.prices_file:
        try:
            return PriceTable.from_file(options.prices_file, options.prices)
        except ValueError as exc:
            _env.warn_invalid(
                "OTEL_OPS_GENAI_PRICES", options.prices_file, f"{exc}; using the built-in prices"
            )
    return PriceTable(options.prices)


def _build(r: _Resolved, export: s.ExportOptions, extra: dict[str, Any]) -> Telemetry:
    identity = ProcessIdentity()
    resource = build_resource(r.core.service_name, r.core.resource_attributes or {}, extra, identity)
    scrubber = Scrubber(_valid_patterns(r.scrub.patterns), r.scrub.keys or ()) if r.scrub.enabled else None
    prices = _price_table(r.genai)
    disabled = bool(r.core.sdk_disabled)

    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None
    queues: dict[str, BatchQueue[Any]] = {}
    transports: list[Transport] = []

    def transports_for(signal: s.Signal, names: tuple[str, ...]) -> dict[str, Transport]:
        config = s.resolve_signal_export(signal, export)
        made = {name: transport_for(name, config) for name in names if name in _OTLP_LIKE}
        transports.extend(made.values())
        return made

    if not disabled:
        install_propagator(r.traces)
        trace_exporters = _exporters(r.traces.exporter, "traces")
        tracer_provider = build_tracer_provider(r.traces, resource)
        for name, transport in transports_for("traces", trace_exporters).items():
            queue: BatchQueue[Any] = BatchQueue(
                f"spans-{name}" if name != "otlp" else "spans",
                span_exporter(transport, identity, scrubber, resource, r.traces.attribute_value_length_limit),
                max_queue_size=r.traces.max_queue_size or 2048,
                max_batch_size=r.traces.max_export_batch_size or 512,
                schedule_delay=r.traces.schedule_delay or 1.0,
                max_queue_bytes=r.traces.max_queue_bytes,
                describe_endpoint=transport.endpoint,
            )
            queues["traces" if name == "otlp" else f"traces-{name}"] = queue
            tracer_provider.add_span_processor(QueuedSpanProcessor(queue))
        _set_global_tracer_provider(tracer_provider)

        metric_exporters = _exporters(r.metrics.exporter, "metrics")
        readers = build_readers(r.metrics, transports_for("metrics", metric_exporters), identity)
        meter_provider = build_meter_provider(resource, readers)
        _set_global_meter_provider(meter_provider)
        if hasattr(os, "register_at_fork"):
            provider = meter_provider
            os.register_at_fork(after_in_child=lambda: reset_after_fork(provider))

        log_exporters = _exporters(r.logs.exporter, "logs")
        for name, transport in transports_for("logs", log_exporters).items():
            log_queue: BatchQueue[Any] = BatchQueue(
                "logs" if name == "otlp" else f"logs-{name}",
                _log_exporter(transport, identity, resource),
                max_queue_size=r.logs.max_queue_size or 2048,
                max_batch_size=r.logs.max_export_batch_size or 512,
                schedule_delay=r.logs.schedule_delay or 1.0,
                max_queue_bytes=r.logs.max_queue_bytes,
                describe_endpoint=transport.endpoint,
            )
            queues["logs" if name == "otlp" else f"logs-{name}"] = log_queue

    meter = (meter_provider or metrics.get_meter_provider()).get_meter("otel_ops")
    if meter_provider is not None:
        own = {k: q for k, q in queues.items() if k in ("traces", "logs")}
        register_queue_metrics(meter, own)
        if r.metrics.process_metrics:
            register_process_metrics(meter)

    telemetry = Telemetry(
        resource=resource,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        http=r.http,
        scrubber=scrubber,
        shutdown_timeout=r.core.shutdown_timeout if r.core.shutdown_timeout is not None else 2.0,
        errors=ErrorRecorder(meter, scrubber, r.traces.attribute_value_length_limit),
        http_metrics=_http_metrics(meter_provider, meter, resource, r.metrics.cardinality_limit or 2000),
        server_spans=_server_spans(tracer_provider, queues, r.traces.attribute_value_length_limit, scrubber),
        genai=GenAIInstruments(meter, prices),
        queues=queues,
        transports=transports,
        disabled=disabled,
    )
    log_queues = [q for k, q in queues.items() if k.startswith("logs")]
    telemetry.log_handlers = _logging_setup.install(r.logs, telemetry.service_name, scrubber, log_queues)
    if r.http.client_propagation and not disabled:
        _instrument_http_clients(tracer_provider, meter_provider)
    return telemetry


def _http_metrics(
    provider: MeterProvider | None, meter: Any, resource: Resource, limit: int
) -> HttpServerMetrics | SdkHttpMetrics:
    if provider is not None:
        fast = HttpServerMetrics(HTTP_DURATION_BUCKETS, limit)
        if attach_to_readers(provider, resource, fast):
            return fast
    return SdkHttpMetrics(meter, HTTP_DURATION_BUCKETS)


def _server_spans(
    provider: TracerProvider | None,
    queues: dict[str, BatchQueue[Any]],
    value_length_limit: int | None,
    scrubber: Scrubber | None,
) -> ServerSpanFactory:
    from opentelemetry.sdk.trace import sampling

    if provider is None:
        return ServerSpanFactory(sampling.ALWAYS_OFF, None, None)
    puts: list[Callable[[Any, int], None]] = [
        queue.put for name, queue in queues.items() if name.startswith("traces")
    ]
    if len(puts) > 1:
        targets = tuple(puts)  # bound now: ``puts`` is rebound to the fan-out below

        def fan_out(span: Any, size: int) -> None:
            for put in targets:
                put(span, size)

        puts = [fan_out]
    return ServerSpanFactory(
        provider.sampler, puts[0] if puts else None, value_length_limit, provider, scrubber
    )


def _log_exporter(transport: Transport, identity: ProcessIdentity, resource: Resource) -> Any:
    def export(batch: list[Any], timeout: float | None) -> Any:
        return transport.send(encode_log_batch(batch, identity.resource_bytes(resource)), timeout)

    return export


def _set_global_tracer_provider(provider: TracerProvider) -> None:
    existing = trace.get_tracer_provider()
    if isinstance(existing, TracerProvider):
        _logger.warning("otel-ops: a tracer provider was already set globally; otel-ops' spans go to its own")
        return
    trace.set_tracer_provider(provider)


def _set_global_meter_provider(provider: MeterProvider) -> None:
    existing = metrics.get_meter_provider()
    if isinstance(existing, MeterProvider):
        _logger.warning(
            "otel-ops: a meter provider was already set globally; otel-ops' metrics go to its own"
        )
        return
    metrics.set_meter_provider(provider)


DISABLED_INSTRUMENTATIONS = "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"


def disabled_instrumentations() -> frozenset[str]:
    """Libraries named in ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` (the standard variable, as
    ``opentelemetry-instrument`` reads it): ``fastapi``, ``httpx``, ``requests``."""
    return frozenset(name.lower() for name in _env.read(DISABLED_INSTRUMENTATIONS, _env.parse_list) or ())


_HTTP_CLIENTS = (
    ("httpx", "opentelemetry.instrumentation.httpx", "HTTPXClientInstrumentor"),
    ("requests", "opentelemetry.instrumentation.requests", "RequestsInstrumentor"),
)


def _instrument_http_clients(
    tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None
) -> None:
    """Outgoing httpx and requests calls get client spans and carry ``traceparent``; each library is
    instrumented when the program imports it (now, if it already has)."""
    disabled = disabled_instrumentations()
    for library, module, cls in _HTTP_CLIENTS:
        if library in disabled:
            continue
        when_imported(
            library, functools.partial(_instrument_client, module, cls, tracer_provider, meter_provider)
        )


def _instrument_client(
    module: str,
    cls: str,
    tracer_provider: TracerProvider | None,
    meter_provider: MeterProvider | None,
    _library: ModuleType,
) -> None:
    try:
        instrumentor = getattr(importlib.import_module(module), cls)()
    except Exception:  # the instrumentation is not installed
        return
    if not instrumentor.is_instrumented_by_opentelemetry:
        try:
            instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        except Exception as exc:  # a version the instrumentation does not support shows up here
            _logger.debug("otel-ops: not instrumenting %s: %s", module, exc)
