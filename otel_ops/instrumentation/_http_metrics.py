"""HTTP server metrics aggregated on the request path for about a microsecond, reported through the SDK.

``http.server.request.duration`` (histogram with the semantic conventions' buckets and one exemplar per
bucket, linking to a trace) and ``http.server.active_requests`` are aggregated here and added to what every
metric reader of the meter provider collects, so they reach OTLP, Prometheus and console readers alike.
Series per route are capped (``OTEL_OPS_METRIC_CARDINALITY_LIMIT``); further ones go to one overflow series
marked ``otel.metric.overflow=true``, as the SDK does for its own instruments.
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left
from dataclasses import replace
from typing import Any

from opentelemetry.sdk.metrics import Exemplar, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_ops._version import __version__

# key: (method, scheme, route, status code, error type)
SeriesKey = tuple[str, str, str | None, int, str | None]
_OVERFLOW: SeriesKey = ("", "", None, 0, None)
_SCOPE = InstrumentationScope("otel_ops.asgi", __version__)


class _Series:
    __slots__ = ("count", "counts", "exemplars", "max", "min", "sum")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * buckets
        self.exemplars: list[tuple[float, int, int, int] | None] = [None] * buckets
        self.count = 0
        self.sum = 0.0
        self.min = float("inf")
        self.max = float("-inf")


class HttpServerMetrics:
    def __init__(self, bounds: tuple[float, ...], cardinality_limit: int) -> None:
        self.bounds = bounds
        self._limit = cardinality_limit
        self._lock = threading.Lock()
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._series: dict[SeriesKey, _Series] = {}
        self._active: dict[tuple[str, str], int] = {}
        self._start_ns = time.time_ns()
        self._lock = threading.Lock()

    # -- hot path ----------------------------------------------------------------------------------------
    def started(self, method: str, scheme: str) -> None:
        key = (method, scheme)
        self._active[key] = self._active.get(key, 0) + 1

    def finished(
        self, method: str, scheme: str, key: SeriesKey, duration: float, trace_id: int, span_id: int
    ) -> None:
        active = (method, scheme)
        self._active[active] = self._active.get(active, 1) - 1
        series = self._series.get(key)
        if series is None:
            series = self._new_series(key)
        index = bisect_left(self.bounds, duration)
        with self._lock:
            series.counts[index] += 1
            series.count += 1
            series.sum += duration
            if duration < series.min:
                series.min = duration
            if duration > series.max:
                series.max = duration
            if trace_id:
                series.exemplars[index] = (duration, time.time_ns(), trace_id, span_id)

    def _new_series(self, key: SeriesKey) -> _Series:
        with self._lock:
            if len(self._series) >= self._limit:
                key = _OVERFLOW
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series(len(self.bounds) + 1)
            return series

    # -- collection --------------------------------------------------------------------------------------
    def collect(self) -> list[Metric]:
        now = time.time_ns()
        points = []
        with self._lock:
            items = [
                (key, s.count, s.sum, s.min, s.max, list(s.counts), list(s.exemplars))
                for key, s in self._series.items()
            ]
        for key, count, total, low, high, counts, exemplars in items:
            points.append(
                HistogramDataPoint(
                    attributes=_attributes(key),
                    start_time_unix_nano=self._start_ns,
                    time_unix_nano=now,
                    count=count,
                    sum=total,
                    bucket_counts=counts,
                    explicit_bounds=self.bounds,
                    min=low,
                    max=high,
                    exemplars=[
                        Exemplar({}, value, at, span_id=span, trace_id=trace)
                        for value, at, trace, span in (e for e in exemplars if e is not None)
                    ],
                )
            )
        active = [
            NumberDataPoint(
                attributes={"http.request.method": method, "url.scheme": scheme},
                start_time_unix_nano=self._start_ns,
                time_unix_nano=now,
                value=value,
            )
            for (method, scheme), value in list(self._active.items())
        ]
        metrics = []
        if points:
            metrics.append(
                Metric(
                    name="http.server.request.duration",
                    description="Duration of HTTP server requests.",
                    unit="s",
                    data=Histogram(
                        data_points=points, aggregation_temporality=AggregationTemporality.CUMULATIVE
                    ),
                )
            )
        if active:
            metrics.append(
                Metric(
                    name="http.server.active_requests",
                    description="Requests being served.",
                    unit="{request}",
                    data=Sum(
                        data_points=active,
                        aggregation_temporality=AggregationTemporality.CUMULATIVE,
                        is_monotonic=False,
                    ),
                )
            )
        return metrics


def _attributes(key: SeriesKey) -> dict[str, Any]:
    if key is _OVERFLOW or key == _OVERFLOW:
        return {"otel.metric.overflow": True}
    method, scheme, route, status, error_type = key
    attributes: dict[str, Any] = {"http.request.method": method, "url.scheme": scheme}
    if route:
        attributes["http.route"] = route
    if status:
        attributes["http.response.status_code"] = status
    if error_type:
        attributes["error.type"] = error_type
    return attributes


def attach_to_readers(provider: MeterProvider, resource: Resource, metrics: HttpServerMetrics) -> bool:
    """Add these metrics to every collection of every reader of ``provider``; False if not possible."""
    readers = getattr(provider, "_metric_readers", ())
    attached = False
    for reader in readers:
        collect = getattr(reader, "_collect", None)
        if collect is None:
            continue

        def with_http_metrics(
            reader_: Any, *args: Any, _collect: Any = collect, **kwargs: Any
        ) -> MetricsData | None:
            data = _collect(reader_, *args, **kwargs)
            extra = metrics.collect()
            if not extra:
                return data
            scope_metrics = ScopeMetrics(scope=_SCOPE, metrics=extra, schema_url="")
            if data is None or not data.resource_metrics:
                return MetricsData(
                    resource_metrics=[
                        ResourceMetrics(resource=resource, scope_metrics=[scope_metrics], schema_url="")
                    ]
                )
            first, *rest = data.resource_metrics
            first = replace(first, scope_metrics=[*first.scope_metrics, scope_metrics])
            return MetricsData(resource_metrics=[first, *rest])

        reader._collect = with_http_metrics
        attached = True
    return attached


class SdkHttpMetrics:
    """The same two metrics through the SDK's instruments, where readers cannot be extended."""

    def __init__(self, meter: Any, bounds: tuple[float, ...]) -> None:
        self._duration = meter.create_histogram(
            "http.server.request.duration",
            unit="s",
            description="Duration of HTTP server requests.",
            explicit_bucket_boundaries_advisory=bounds,
        )
        self._active = meter.create_up_down_counter(
            "http.server.active_requests", unit="{request}", description="Requests being served."
        )

    def started(self, method: str, scheme: str) -> None:
        self._active.add(1, {"http.request.method": method, "url.scheme": scheme})

    def finished(
        self, method: str, scheme: str, key: SeriesKey, duration: float, trace_id: int, span_id: int
    ) -> None:
        self._active.add(-1, {"http.request.method": method, "url.scheme": scheme})
        self._duration.record(duration, _attributes(key))
