"""A late sample must not stop metrics: Collector (remote write with its WAL) -> Prometheus.

Prometheus answers 400 to a remote-write request that holds a sample older than its series' newest
one, and the exporter's write-ahead log sends the same entry again and again after a refusal, so
without an out-of-order window one late point (a slow client, a replayed backlog, two requests that
crossed) would hold back every metric behind it for good. Prometheus here runs with the storage
settings of the project's ``prometheus/prometheus.yml``.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otel_ops.stack import collector_build
from tests.collector.processes import start_collector, start_prometheus, wait_for

pytestmark = pytest.mark.slow

LATE_BY_S = 60


def gauge_request(name: str, run: str, value: float, time_unix_nano: int) -> bytes:
    point = NumberDataPoint(
        time_unix_nano=time_unix_nano,
        as_double=value,
        attributes=[KeyValue(key="run", value=AnyValue(string_value=run))],
    )
    metric = Metric(name=name, gauge=Gauge(data_points=[point]))
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="order-test"))])
    return ExportMetricsServiceRequest(
        resource_metrics=[ResourceMetrics(resource=resource, scope_metrics=[ScopeMetrics(metrics=[metric])])]
    ).SerializeToString()


def post(url: str, body: bytes) -> None:
    response = httpx.post(url, content=body, headers={"Content-Type": "application/x-protobuf"}, timeout=10)
    assert response.status_code == 200, (response.status_code, response.text)


def test_a_late_sample_is_stored_and_does_not_hold_back_later_metrics(
    collector_binary: Path, tmp_path: Path
) -> None:
    prometheus = start_prometheus(tmp_path / "prometheus")
    env = {"OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": prometheus.remote_write_url}
    collector, ports = start_collector(
        collector_binary, collector_build.fragments(["prometheus"]), tmp_path / "collector", env=env
    )
    run = uuid.uuid4().hex[:8]
    url = f"http://127.0.0.1:{ports.http}/v1/metrics"
    try:
        now = time.time_ns()
        post(url, gauge_request("order_probe", run, 1.0, now))
        wait_for(lambda: prometheus.query(f'order_probe{{run="{run}"}}'), 30, "the first point in Prometheus")

        post(url, gauge_request("order_probe", run, 2.0, now - LATE_BY_S * 10**9))  # older than the first
        post(url, gauge_request("order_after_probe", run, 3.0, time.time_ns()))

        wait_for(
            lambda: prometheus.query(f'order_after_probe{{run="{run}"}}'),
            30,
            "a metric sent after a late sample in Prometheus (the late sample blocked the exporter's WAL)",
        )
        # The late sample was stored next to the first, not dropped.
        stored = prometheus.query(f'count_over_time(order_probe{{run="{run}"}}[5m])')
        assert [float(s["value"][1]) for s in stored] == [2.0], stored
    finally:
        collector.stop()
        prometheus.process.stop()
