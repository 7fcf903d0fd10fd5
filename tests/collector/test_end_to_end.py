"""The whole pipeline with real processes: SDK -> Collector -> Prometheus, stand-ins for Loki and Tempo."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from otel_ops.stack import collector_build
from tests.collector.processes import (
    CollectorPorts,
    Process,
    Prometheus,
    free_port,
    http_get,
    start_collector,
    start_prometheus,
    wait_for,
)
from tests.collector.telemetry import SECRET_API_KEY, SentTelemetry, Service, send_telemetry
from tests.support.otlp_sink import OtlpSink

pytestmark = pytest.mark.slow


@dataclass
class Stack:
    prometheus: Prometheus
    loki: OtlpSink
    tempo: OtlpSink
    collector: Process
    ports: CollectorPorts
    sent: SentTelemetry


@pytest.fixture(scope="module")
def stack(collector_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("e2e")
    ports = CollectorPorts()
    prometheus = start_prometheus(workdir / "prometheus", scrape_targets=[f"127.0.0.1:{ports.metrics}"])
    loki = OtlpSink(http_path_prefix="/otlp", grpc_port=None).start()
    tempo = OtlpSink().start()
    collector: Process | None = None
    try:
        collector, _ = start_collector(
            collector_binary,
            collector_build.fragments(["prometheus", "loki", "tempo"]),
            workdir / "collector",
            ports=ports,
            env={
                "OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": prometheus.remote_write_url,
                "OTEL_OPS_LOKI_OTLP_ENDPOINT": loki.http_endpoint,
                "OTEL_OPS_TEMPO_OTLP_ENDPOINT": f"127.0.0.1:{tempo.grpc_port}",
                "OTEL_OPS_METRICS_FLUSH_INTERVAL": "1s",
                "OTEL_OPS_TRACE_DECISION_WAIT": "2s",
                "OTEL_OPS_TRACE_SLOW_THRESHOLD_MS": "1000",
                "OTEL_OPS_TRACE_SAMPLE_PERCENT": "0",
            },
        )
        sent = send_telemetry(f"http://127.0.0.1:{ports.http}")
        yield Stack(prometheus, loki, tempo, collector, ports, sent)
    finally:
        if collector is not None:
            collector.stop()
        loki.stop()
        tempo.stop()
        prometheus.process.stop()


def _wal_writes(ports: CollectorPorts) -> float:
    """The Collector's own count of remote-write WAL writes, from its metrics endpoint."""
    _, body = http_get(f"http://127.0.0.1:{ports.metrics}/metrics")
    lines = [
        line
        for line in body.decode().splitlines()
        if line.startswith("otelcol_exporter_prometheusremotewrite_wal_writes")
    ]
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines)


def _series(stack: Stack, promql: str) -> list[dict]:
    try:
        return wait_for(lambda: stack.prometheus.query(promql), timeout=60, message=f"no series for {promql}")
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}; metric names in Prometheus: {stack.prometheus.metric_names()}"
        ) from None


def test_span_metrics_reach_prometheus_with_service_name(stack: Stack) -> None:
    calls = _series(stack, 'traces_span_metrics_calls_total{service_name="checkout"}')
    span_names = {series["metric"]["span_name"] for series in calls}
    assert {"GET /cart", "POST /checkout", "GET /report"} <= span_names
    errors = [s for s in calls if s["metric"]["status_code"] == "STATUS_CODE_ERROR"]
    assert [s["metric"]["span_name"] for s in errors] == ["POST /checkout"]
    _series(
        stack,
        'traces_span_metrics_duration_seconds_bucket{service_name="frontend", span_kind="SPAN_KIND_CLIENT"}',
    )


def test_application_metric_reaches_prometheus_with_service_name(stack: Stack) -> None:
    series = _series(stack, 'orders_placed_total{service_name="checkout"}')
    assert series[0]["metric"]["payment_method"] == "card"
    assert series[0]["metric"]["deployment_environment_name"] == "development"
    assert float(series[0]["value"][1]) == 1.0


def test_exemplars_link_span_metrics_to_traces(stack: Stack) -> None:
    promql = 'traces_span_metrics_duration_seconds_bucket{service_name="checkout"}'
    sent_ids = {stack.sent.fast_trace_id, stack.sent.error_trace_id, stack.sent.slow_trace_id}

    def exemplar_trace_ids() -> set[str]:
        found = stack.prometheus.exemplars(promql)
        return {e["labels"].get("trace_id", "") for series in found for e in series["exemplars"]} & sent_ids

    assert wait_for(exemplar_trace_ids, timeout=60, message=f"no exemplars with our trace ids for {promql}")


def test_service_graph_reaches_prometheus(stack: Stack) -> None:
    series = _series(stack, 'traces_service_graph_request_total{client="frontend", server="checkout"}')
    assert sum(float(s["value"][1]) for s in series) >= 2


def test_collector_self_metrics_are_scraped(stack: Stack) -> None:
    # The Collector's own counters have no _total suffix at this version.
    accepted = _series(stack, 'otelcol_receiver_accepted_spans{receiver="otlp"}')
    assert sum(float(s["value"][1]) for s in accepted) >= 5


def test_logs_reach_loki_otlp_path_with_trace_ids(stack: Stack) -> None:
    logs = stack.loki.wait_for(lambda: [r for r in stack.loki.logs() if r["trace_id"]], timeout=30)
    assert {r.path for r in stack.loki.requests} == {"/otlp/v1/logs"}
    assert stack.sent.log_trace_id in {record["trace_id"] for record in logs}
    services = {record["resource"]["service.name"] for record in logs}
    assert services == {"checkout"}


def test_secrets_are_masked_before_leaving_the_collector(stack: Stack) -> None:
    logs = stack.loki.wait_for(
        lambda: [r for r in stack.loki.logs() if r["trace_id"] == stack.sent.error_trace_id], timeout=30
    )
    assert "payment provider rejected key" in logs[0]["body"]
    assert SECRET_API_KEY not in logs[0]["body"]

    spans = stack.tempo.wait_for(
        lambda: [
            s for s in stack.tempo.spans() if s["trace_id"] == stack.sent.error_trace_id and s["kind"] == 2
        ],
        timeout=30,
    )
    attributes = spans[0]["attributes"]
    assert "eyJ" not in attributes["http.request.header.authorization"]
    assert SECRET_API_KEY not in attributes["llm.prompt"]
    assert attributes["llm.prompt"].startswith("use key ")
    assert attributes["redaction.masked.count"] >= 2


def _sampling_decisions(ports: CollectorPorts) -> dict[str, float]:
    """Tail sampling's decisions so far, ``sampled`` and ``not_sampled``, from the Collector's own metrics."""
    _, body = http_get(f"http://127.0.0.1:{ports.metrics}/metrics")
    decisions = {"sampled": 0.0, "not_sampled": 0.0}
    for line in body.decode().splitlines():
        if line.startswith("otelcol_processor_tail_sampling_global_count_traces_sampled{"):
            for decision in decisions:
                if f'decision="{decision}"' in line:
                    decisions[decision] += float(line.rsplit(" ", 1)[1])
    return decisions


def test_tail_sampling_keeps_errors_and_slow_traces_only(stack: Stack) -> None:
    wanted = {stack.sent.error_trace_id, stack.sent.slow_trace_id}
    stack.tempo.wait_for(lambda: wanted <= {s["trace_id"] for s in stack.tempo.spans()}, timeout=30)
    # Every trace sent has its decision: the fast one was not sampled, so it never leaves the Collector.
    wait_for(
        lambda: sum(_sampling_decisions(stack.ports).values()) >= 3, 30, "tail sampling decided on all three"
    )
    decisions = _sampling_decisions(stack.ports)
    assert decisions == {"sampled": 2.0, "not_sampled": 1.0}, decisions
    assert stack.sent.fast_trace_id not in {s["trace_id"] for s in stack.tempo.spans()}
    # Both services' spans of a kept trace arrive together.
    error_services = {
        s["resource"]["service.name"]
        for s in stack.tempo.spans()
        if s["trace_id"] == stack.sent.error_trace_id
    }
    assert error_services == {"frontend", "checkout"}


def test_queued_logs_survive_a_loki_outage_and_a_collector_restart(
    collector_binary: Path, tmp_path: Path
) -> None:
    loki = OtlpSink(http_path_prefix="/otlp", grpc_port=None, status=503).start()
    configs = collector_build.fragments(["loki"])
    env = {"OTEL_OPS_LOKI_OTLP_ENDPOINT": loki.http_endpoint}
    try:
        collector, ports = start_collector(collector_binary, configs, tmp_path, env=env)
        try:
            service = Service("billing", f"http://127.0.0.1:{ports.http}")
            service.logger.warning("invoice 42 queued while Loki is down")
            service.shutdown()
            wait_for(
                lambda: collector.log.read_text().count("Exporting failed") >= 1, 30, "no export attempt"
            )
        finally:
            assert collector.stop() == 0
        assert loki.logs() == []

        loki.status = 200
        collector, _ = start_collector(collector_binary, configs, tmp_path, env=env)
        try:
            delivered = loki.wait_for(
                lambda: [r for r in loki.logs() if r["body"] == "invoice 42 queued while Loki is down"],
                timeout=30,
            )
            assert delivered[0]["resource"]["service.name"] == "billing"
        finally:
            collector.stop()
    finally:
        loki.stop()


def test_queued_metrics_survive_a_prometheus_outage_and_a_collector_restart(
    collector_binary: Path, tmp_path: Path
) -> None:
    prometheus_port = free_port()
    configs = collector_build.fragments(["prometheus"])
    env = {"OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": f"http://127.0.0.1:{prometheus_port}/api/v1/write"}
    collector, ports = start_collector(collector_binary, configs, tmp_path / "collector", env=env)
    try:
        service = Service("billing", f"http://127.0.0.1:{ports.http}")
        service.meter_provider.get_meter("test").create_counter("invoices.sent").add(7)
        service.shutdown()
        wait_for(lambda: _wal_writes(ports) >= 1, 30, "the metrics never reached the write-ahead log")
    finally:
        assert collector.stop() == 0

    prometheus = start_prometheus(tmp_path / "prometheus", port=prometheus_port)
    try:
        collector, _ = start_collector(collector_binary, configs, tmp_path / "collector", env=env)
        try:
            series = wait_for(
                lambda: prometheus.query('invoices_sent_total{service_name="billing"}'),
                60,
                "metrics queued before the restart never reached Prometheus",
            )
            assert float(series[0]["value"][1]) == 7.0
        finally:
            collector.stop()
    finally:
        prometheus.process.stop()
