"""The collector's own metric names used by the rules and dashboards are the ones the pinned collector
exposes on its metrics port (at 0.158 its counters have no `_total` suffix)."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_ops.stack import collector_build
from tests.collector.processes import CollectorPorts, Process, free_port, http_get, start_collector, wait_for
from tests.stack_config.promql import dashboard_expressions, rule_expressions
from tests.support.otlp_sink import OtlpSink

pytestmark = pytest.mark.slow

# Counted only when an export fails for good or a queue overflows; named like their `sent` siblings.
ONLY_ON_FAILURE = re.compile(r"^otelcol_exporter_(send_failed|enqueue_failed)_(\w+)$")


def _referenced() -> set[str]:
    names: set[str] = set()
    for _, expr in dashboard_expressions() + rule_expressions():
        # Not the otelcol_ inside recording-rule names (level:metric:operation).
        names |= set(re.findall(r"(?<![:\w])otelcol_\w+", expr))
    return names


def _post(url: str, payload: dict) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@pytest.fixture(scope="module")
def exposition(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        binary = collector_build.ensure_collector()
    except collector_build.CollectorBuildError as exc:
        pytest.fail(f"building the Collector failed:\n{exc}", pytrace=False)
    workdir: Path = tmp_path_factory.mktemp("collector")
    # Tempo and Loki stand-ins accept everything; Prometheus is unreachable (its exporter writes to a WAL).
    backend = OtlpSink(http_path_prefix="/otlp").start()
    process: Process
    process, ports = start_collector(
        binary,
        collector_build.fragments(),
        workdir,
        env={
            "OTEL_OPS_TEMPO_OTLP_ENDPOINT": f"127.0.0.1:{backend.grpc_port}",
            "OTEL_OPS_LOKI_OTLP_ENDPOINT": backend.http_endpoint,
            "OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": f"http://127.0.0.1:{free_port()}/api/v1/write",
            "OTEL_OPS_TRACE_DECISION_WAIT": "1s",
        },
        ports=CollectorPorts(),
    )
    try:
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "demo"}}]}
        base = f"http://127.0.0.1:{ports.http}"
        span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "GET /x"}
        now = time.time_ns()
        # A failed server span: the tail sampler keeps every trace with an error.
        span |= {"kind": 2, "startTimeUnixNano": str(now - 10**8), "endTimeUnixNano": str(now)}
        span |= {"status": {"code": 2}}
        _post(
            f"{base}/v1/traces",
            {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]},
        )
        record = {"timeUnixNano": "1700000000000000000", "body": {"stringValue": "hello"}}
        _post(
            f"{base}/v1/logs",
            {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": [record]}]}]},
        )
        gauge = {
            "name": "demo_gauge",
            "gauge": {"dataPoints": [{"asDouble": 1, "timeUnixNano": "1700000000000000000"}]},
        }
        _post(
            f"{base}/v1/metrics",
            {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": [gauge]}]}]},
        )
        metrics_url = f"http://127.0.0.1:{ports.metrics}/metrics"

        def scraped() -> str | None:
            text = http_get(metrics_url)[1].decode()
            signals = ("spans", "log_records", "metric_points")
            ready = all(f"otelcol_exporter_sent_{s}{{" in text for s in signals)
            return text if ready and "otelcol_exporter_queue_size" in text else None

        yield wait_for(scraped, timeout=30, message="collector self metrics")
    finally:
        process.stop()
        backend.stop()


def test_referenced_collector_metrics_exist(exposition: str) -> None:
    exposed = set(re.findall(r"^(otelcol_\w+?)(?:\{| )", exposition, flags=re.MULTILINE))
    referenced = _referenced()
    assert len(referenced) >= 10
    missing = []
    for name in sorted(referenced):
        failure = ONLY_ON_FAILURE.match(name)
        present = name in exposed or (failure and f"otelcol_exporter_sent_{failure.group(2)}" in exposed)
        if not present:
            missing.append(name)
    assert missing == [], f"not exposed by the collector: {missing}"
