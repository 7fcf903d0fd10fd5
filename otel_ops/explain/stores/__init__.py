"""Store adapters: one module per store, behind the small protocols of :mod:`.protocols`."""

from otel_ops.explain.stores.alertmanager import AlertmanagerStore
from otel_ops.explain.stores.jaeger import JaegerStore
from otel_ops.explain.stores.loki import LokiStore
from otel_ops.explain.stores.prometheus import PrometheusStore
from otel_ops.explain.stores.protocols import LogStore, LogSummary, TraceStore
from otel_ops.explain.stores.tempo import TempoStore
from otel_ops.explain.stores.victorialogs import VictoriaLogsStore

__all__ = [
    "AlertmanagerStore",
    "JaegerStore",
    "LogStore",
    "LogSummary",
    "LokiStore",
    "PrometheusStore",
    "TempoStore",
    "TraceStore",
    "VictoriaLogsStore",
]
