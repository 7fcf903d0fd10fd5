"""Metrics: the meter provider, its readers (OTLP push, Prometheus pull, console) and the OTLP exporter."""

from __future__ import annotations

import logging
import time

from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from otel_ops.config.settings import MetricsOptions
from otel_ops.instrumentation._batch import Outcome
from otel_ops.instrumentation._resource import ProcessIdentity
from otel_ops.instrumentation._transport import Transport

_logger = logging.getLogger("otel_ops.export")

_INSTRUMENT_TYPES = (
    Counter,
    UpDownCounter,
    Histogram,
    ObservableCounter,
    ObservableUpDownCounter,
    ObservableGauge,
)


class OtlpMetricExporter(MetricExporter):
    """Encodes metric batches to OTLP and sends them once; cumulative sums make a skipped push harmless."""

    def __init__(self, transport: Transport, identity: ProcessIdentity) -> None:
        super().__init__()
        self._transport = transport
        self._identity = identity
        self._last_warning = float("-inf")
        self.failures = 0

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: object
    ) -> MetricExportResult:
        request = encode_metrics(metrics_data)
        self._identity.stamp(request.resource_metrics)
        outcome = self._transport.send(request, timeout_millis / 1000)
        if outcome is Outcome.SUCCESS:
            return MetricExportResult.SUCCESS
        self.failures += 1
        now = time.monotonic()
        if now - self._last_warning > 60:
            self._last_warning = now
            _logger.warning(
                "otel-ops: cannot export metrics to %s (%d failed pushes); the next push carries the totals",
                self._transport.endpoint,
                self.failures,
            )
        return MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: object) -> None:
        self._transport.close()


def build_readers(
    options: MetricsOptions, transports: dict[str, Transport], identity: ProcessIdentity
) -> list[MetricReader]:
    limits = dict.fromkeys(_INSTRUMENT_TYPES, options.cardinality_limit or 2000)
    readers: list[MetricReader] = []
    for name, transport in transports.items():
        readers.append(
            PeriodicExportingMetricReader(
                OtlpMetricExporter(transport, identity),
                export_interval_millis=(options.export_interval or 60.0) * 1000,
                export_timeout_millis=(options.export_timeout or 30.0) * 1000,
                cardinality_limits=limits,  # type: ignore[arg-type]
            )
        )
        _logger.debug("metrics reader %s -> %s", name, transport.endpoint)
    if "prometheus" in (options.exporter or ()):
        readers.append(_prometheus_reader(options))
    return readers


def _prometheus_reader(options: MetricsOptions) -> MetricReader:
    try:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import start_http_server
    except ImportError as exc:
        raise RuntimeError(
            "OTEL_METRICS_EXPORTER=prometheus needs opentelemetry-exporter-prometheus: "
            "install 'otel-ops[prometheus]'"
        ) from exc
    start_http_server(port=options.prometheus_port or 9464, addr=options.prometheus_host or "localhost")
    return PrometheusMetricReader()


def build_meter_provider(resource: Resource, readers: list[MetricReader]) -> MeterProvider:
    return MeterProvider(resource=resource, metric_readers=readers)


def reset_after_fork(provider: MeterProvider) -> None:
    """Forget measurements aggregated before ``fork`` so a child does not report its parent's counts."""
    consumer = getattr(provider, "_measurement_consumer", None)
    storages = getattr(consumer, "_reader_storages", {}) or {}
    for storage in storages.values():
        for matches in getattr(storage, "_instrument_view_instrument_matches", {}).values():
            for match in matches:
                aggregations = getattr(match, "_attributes_aggregation", None)
                if aggregations is not None:
                    aggregations.clear()
