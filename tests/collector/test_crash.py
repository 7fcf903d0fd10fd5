"""Crashes and outages under load: what the Collector acknowledged must reach the backend.

A client streams raw OTLP/HTTP requests whose items carry unique ids and remembers which requests the
Collector answered with 200. The backend stand-in (or Prometheus) receives what the Collector sends; the
tests compare the two sets of ids.

What survives a ``kill -9``: items in the Loki/Tempo exporters' persistent sending queue
(``file_storage/queue``) and points in the remote-write exporter's WAL. Both are written to files before
the exporter returns; the files are not fsynced (``file_storage`` default), which is enough for a killed
process but not for a machine crash. What cannot survive: items acknowledged to the client but still held
by a processor in front of the exporter. The ``batch`` processor answers as soon as it holds the data and
forwards it up to its ``timeout`` (1 s) later, so a ``kill -9`` loses what arrived since its last flush.
The shipped configuration has no batch processor in front of any exporter (logs batch inside the Loki
exporter's persistent queue; remote write batches after its WAL); these tests hold it to that: a loss
of the items acknowledged within the last second before the kill is reported as ``BatchProcessorLoss``.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otel_ops.stack import collector_build
from otel_ops.stack.collector_wal import repair_remote_write_wal
from tests.collector.processes import (
    CollectorPorts,
    Process,
    free_port,
    http_get,
    start_collector,
    start_prometheus,
    wait_for,
)
from tests.support.otlp_sink import OtlpSink

pytestmark = pytest.mark.slow

RECORDS_PER_REQUEST = 50
REQUEST_INTERVAL_S = 0.05  # about 1000 items/s: a steady stream, cheap enough for the Python stand-ins
BATCH_TIMEOUT_S = 1.0  # the flush timeout of the batching the Collector does (sending_queue.batch)
LOKI_EXPORTER = 'exporter="otlp_http/loki"'


class BatchProcessorLoss(AssertionError):
    """Acknowledged items were lost, all acknowledged within the batch processor's timeout before the kill."""


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def logs_request(run: str, ids: range) -> bytes:
    records = [
        LogRecord(
            time_unix_nano=time.time_ns(),
            severity_number=9,
            severity_text="INFO",
            body=AnyValue(string_value=f"{run}-{i}"),
        )
        for i in ids
    ]
    resource = Resource(attributes=[_kv("service.name", "crash-test")])
    return ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=records)])]
    ).SerializeToString()


def metrics_request(run: str, ids: range) -> bytes:
    """One gauge point per id, each its own series (label ``seq``), so Prometheus can count them."""
    now = time.time_ns()
    points = [
        NumberDataPoint(
            time_unix_nano=now, as_double=float(i), attributes=[_kv("run", run), _kv("seq", str(i))]
        )
        for i in ids
    ]
    metric = Metric(name="crash_probe", gauge=Gauge(data_points=points))
    resource = Resource(attributes=[_kv("service.name", "crash-test")])
    return ExportMetricsServiceRequest(
        resource_metrics=[ResourceMetrics(resource=resource, scope_metrics=[ScopeMetrics(metrics=[metric])])]
    ).SerializeToString()


@dataclass
class Stream:
    """Streams requests of ``RECORDS_PER_REQUEST`` unique ids to the Collector from a thread.

    ``acked`` maps each id the Collector answered 200 for to the monotonic time of that answer; ids of
    requests that failed or got another status are never acknowledged (a client would resend them).
    """

    port: int
    path: str
    build: Callable[[str, range], bytes]
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    acked: dict[int, float] = field(default_factory=dict)
    refused_requests: int = 0
    failed_requests: int = 0

    def __post_init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.last_ack = 0.0

    def start(self) -> Stream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def acked_count(self) -> int:
        with self._lock:
            return len(self.acked)

    def wait_for_ack_after(self, moment: float, timeout: float = 10.0) -> None:
        wait_for(lambda: self.last_ack > moment, timeout, "the Collector acknowledged nothing", 0.001)

    def _loop(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/x-protobuf"}
        while not self._stop.is_set():
            ids = range(self._next, self._next + RECORDS_PER_REQUEST)
            self._next += RECORDS_PER_REQUEST
            try:
                connection.request("POST", self.path, self.build(self.run, ids), headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                self.failed_requests += 1
                time.sleep(REQUEST_INTERVAL_S)
                continue
            if response.status == 200:
                now = time.monotonic()
                with self._lock:
                    self.acked.update(dict.fromkeys(ids, now))
                self.last_ack = now
            else:
                self.refused_requests += 1
            time.sleep(REQUEST_INTERVAL_S)
        connection.close()


def queue_size(ports: CollectorPorts, exporter: str) -> float:
    _, body = http_get(f"http://127.0.0.1:{ports.metrics}/metrics")
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.decode().splitlines()
        if line.startswith("otelcol_exporter_queue_size") and exporter in line
    )


def wal_counters(ports: CollectorPorts) -> dict[str, float]:
    """The remote-write WAL's byte counters (``written``, ``read``) from the Collector's own metrics."""
    _, body = http_get(f"http://127.0.0.1:{ports.metrics}/metrics")
    values = {"written": 0.0, "read": 0.0}
    for line in body.decode().splitlines():
        for key in values:
            if line.startswith(f"otelcol_exporter_prometheusremotewrite_wal_bytes_{key}"):
                values[key] += float(line.rsplit(" ", 1)[1])
    return values


def wal_backlog(ports: CollectorPorts) -> float:
    """Bytes written to the remote-write WAL and not yet read back to be sent."""
    counters = wal_counters(ports)
    return counters["written"] - counters["read"]


def kill_9(collector: Process) -> None:
    assert collector.popen is not None
    os.kill(collector.popen.pid, signal.SIGKILL)
    collector.popen.wait(timeout=10)
    assert collector.popen.returncode == -signal.SIGKILL


@dataclass
class CrashResult:
    acked: dict[int, float]
    delivered: set[int]
    killed_at: float
    duplicates: int

    @property
    def lost(self) -> list[int]:
        return sorted(set(self.acked) - self.delivered)


@pytest.fixture
def loki_port() -> int:
    return free_port()


def crash_while_loki_is_down(
    collector_binary: Path, workdir: Path, loki_port: int, extra_configs: list[Path]
) -> CrashResult:
    """Loki up, then down while logs keep coming, ``kill -9`` mid-stream, restart, Loki back."""
    configs = [*collector_build.fragments(["prometheus", "loki"]), *extra_configs]
    env = {
        "OTEL_OPS_LOKI_OTLP_ENDPOINT": f"http://127.0.0.1:{loki_port}/otlp",
        # No Prometheus here: the metrics pipeline carries nothing in this test.
        "OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": f"http://127.0.0.1:{free_port()}/api/v1/write",
    }
    ports = CollectorPorts()
    loki = OtlpSink(http_port=loki_port, http_path_prefix="/otlp", grpc_port=None).start()
    collector, _ = start_collector(collector_binary, configs, workdir, env=env, ports=ports)
    stream = Stream(ports.http, "/v1/logs", logs_request).start()
    try:

        def delivered() -> set[int]:
            prefix = f"{stream.run}-"
            return {int(r["body"][len(prefix) :]) for r in loki.logs() if str(r["body"]).startswith(prefix)}

        wait_for(lambda: len(delivered()) >= 500, 30, "logs never reached the Loki stand-in")
        # Down: refuse on the connections the exporter keeps alive, and stop listening for new ones.
        loki.status = 503
        loki.stop()
        wait_for(
            lambda: queue_size(ports, LOKI_EXPORTER) >= 1000,
            30,
            "records did not pile up in the persistent queue while Loki was down",
        )
        # The batch processor forwards what it holds once per timeout: kill half a timeout after it last did,
        # right after the client got a 200.
        queued = queue_size(ports, LOKI_EXPORTER)
        wait_for(lambda: queue_size(ports, LOKI_EXPORTER) != queued, 10, "the queue stopped growing", 0.01)
        time.sleep(BATCH_TIMEOUT_S / 2)
        stream.wait_for_ack_after(time.monotonic())
        killed_at = time.monotonic()
        kill_9(collector)
        time.sleep(0.5)  # the client keeps trying and gets no acknowledgement
        stream.stop()
        assert stream.failed_requests >= 1

        before_restart = delivered()
        loki = OtlpSink(http_port=loki_port, http_path_prefix="/otlp", grpc_port=None).start()
        collector, _ = start_collector(collector_binary, configs, workdir, env=env, ports=ports)
        acked = dict(stream.acked)
        assert len(acked) - len(before_restart) >= 1000, "too little was queued to test anything"
        settled = wait_for(
            lambda: all_in_or_settled(set(acked), delivered, lambda: queue_size(ports, LOKI_EXPORTER)),
            60,
            "the restarted Collector neither delivered everything nor drained its queue",
            interval=0,
        )
        assert settled
        after_restart = [r["body"] for r in loki.logs()]
        prefix = f"{stream.run}-"
        resent = {int(body[len(prefix) :]) for body in after_restart if str(body).startswith(prefix)}
        return CrashResult(
            acked=acked,
            delivered=delivered() | before_restart,
            killed_at=killed_at,
            # Delivered twice: within the restarted run, or once before the kill and again after it.
            duplicates=len(after_restart) - len(set(after_restart)) + len(resent & before_restart),
        )
    finally:
        stream.stop()
        collector.stop()
        loki.stop()


def all_in_or_settled(
    wanted: set[int], delivered: Callable[[], set[int]], queued: Callable[[], float], quiet_s: float = 3.0
) -> bool:
    """True once ``wanted`` arrived, or once the queue is empty and nothing new arrived for ``quiet_s``."""
    seen = delivered()
    if wanted <= seen:
        return True
    if queued() > 0:
        time.sleep(0.5)
        return False
    time.sleep(quiet_s)
    return wanted <= delivered() or (len(delivered()) == len(seen) and queued() == 0)


def assert_nothing_acknowledged_was_lost(result: CrashResult) -> None:
    lost = result.lost
    if not lost:
        return
    ages = [result.killed_at - result.acked[i] for i in lost]
    summary = (
        f"{len(lost)} of {len(result.acked)} acknowledged items lost (ids {lost[0]}..{lost[-1]}), "
        f"acknowledged {max(ages):.2f}..{min(ages):.2f} s before the kill"
    )
    if max(ages) <= BATCH_TIMEOUT_S + 0.5 and lost == list(range(lost[0], lost[-1] + 1)):
        raise BatchProcessorLoss(
            f"{summary}: the records the batch processor held (timeout {BATCH_TIMEOUT_S} s) when the "
            "Collector was killed"
        )
    raise AssertionError(summary)


def test_acknowledged_logs_survive_kill_9_during_a_loki_outage(
    collector_binary: Path, tmp_path: Path, loki_port: int
) -> None:
    result = crash_while_loki_is_down(collector_binary, tmp_path, loki_port, [])
    assert_nothing_acknowledged_was_lost(result)
    # Loki was down when the Collector was killed, so nothing was in flight: nothing arrives twice.
    assert result.duplicates == 0, f"{result.duplicates} log records delivered twice"


def test_metrics_sent_during_a_prometheus_outage_all_arrive(collector_binary: Path, tmp_path: Path) -> None:
    prometheus_port = free_port()
    prometheus = start_prometheus(tmp_path / "prometheus", port=prometheus_port)
    configs = collector_build.fragments(["prometheus"])
    env = {"OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": prometheus.remote_write_url}
    collector, ports = start_collector(collector_binary, configs, tmp_path / "collector", env=env)
    stream = Stream(ports.http, "/v1/metrics", metrics_request).start()
    promql = f'count(last_over_time(crash_probe{{run="{stream.run}"}}[10m]))'

    def received() -> int:
        result = prometheus.query(promql)
        return int(float(result[0]["value"][1])) if result else 0

    try:
        wait_for(lambda: received() >= 500, 30, "metrics never reached Prometheus")
        assert prometheus.process.stop() == 0
        outage_started = stream.acked_count()
        # The exporter logs nothing and counts no failures while Prometheus is down (its
        # otelcol_exporter_sent_metric_points counts points written to the WAL); the WAL backlog shows it.
        wait_for(lambda: wal_backlog(ports) > 100_000, 30, "metrics did not pile up in the WAL")
        time.sleep(4)
        sent_during_outage = stream.acked_count() - outage_started
        prometheus = start_prometheus(tmp_path / "prometheus", port=prometheus_port)
        time.sleep(2)
        stream.stop()
        sent = stream.acked_count()
        assert sent_during_outage >= 3000
        assert stream.refused_requests == 0
        deadline = time.monotonic() + 90
        while (arrived := received()) < sent and time.monotonic() < deadline:
            time.sleep(1)
        assert arrived == sent, f"{sent} points acknowledged by the Collector, {arrived} in Prometheus"
        wait_for(lambda: wal_backlog(ports) == 0, 30, "the WAL backlog was not sent")
    finally:
        stream.stop()
        collector.stop()
        prometheus.process.stop()


def crash_while_prometheus_is_down(
    collector_binary: Path, workdir: Path, extra_configs: list[Path]
) -> CrashResult:
    """Prometheus up, then down under a stream of metrics; ``kill -9``, Prometheus back, restart."""
    prometheus_port = free_port()
    prometheus = start_prometheus(workdir / "prometheus", port=prometheus_port)
    configs = [*collector_build.fragments(["prometheus"]), *extra_configs]
    env = {"OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": prometheus.remote_write_url}
    ports = CollectorPorts()
    collector, _ = start_collector(collector_binary, configs, workdir / "collector", env=env, ports=ports)
    stream = Stream(ports.http, "/v1/metrics", metrics_request).start()

    def delivered() -> set[int]:
        return {int(s["metric"]["seq"]) for s in prometheus.query(f'crash_probe{{run="{stream.run}"}}')}

    try:
        wait_for(lambda: len(delivered()) >= 500, 30, "metrics never reached Prometheus")
        assert prometheus.process.stop() == 0
        wait_for(lambda: wal_backlog(ports) > 100_000, 30, "metrics did not pile up in the WAL")
        # Kill half a batch timeout after the last write to the WAL, right after the client got a 200.
        written = wal_counters(ports)["written"]
        wait_for(lambda: wal_counters(ports)["written"] != written, 10, "the WAL stopped growing", 0.01)
        time.sleep(BATCH_TIMEOUT_S / 2)
        stream.wait_for_ack_after(time.monotonic())
        killed_at = time.monotonic()
        kill_9(collector)
        time.sleep(0.3)
        stream.stop()
        assert stream.failed_requests >= 1
        acked = dict(stream.acked)

        prometheus = start_prometheus(workdir / "prometheus", port=prometheus_port)
        # As otel-ops does before every Collector start: a kill mid-append can tear the WAL's last entry.
        repair_remote_write_wal(workdir / "collector" / "storage")
        collector, _ = start_collector(collector_binary, configs, workdir / "collector", env=env, ports=ports)
        # A restarted Collector reads the WAL it inherited: its counters start at 0, "read" runs ahead.
        wait_for(
            lambda: all_in_or_settled(set(acked), delivered, lambda: max(0.0, wal_backlog(ports)), 5.0),
            90,
            "the restarted Collector neither delivered everything nor emptied its WAL",
            interval=0,
        )
        return CrashResult(acked=acked, delivered=delivered(), killed_at=killed_at, duplicates=0)
    finally:
        stream.stop()
        collector.stop()
        prometheus.process.stop()


def test_acknowledged_metrics_survive_kill_9_during_a_prometheus_outage(
    collector_binary: Path, tmp_path: Path
) -> None:
    result = crash_while_prometheus_is_down(collector_binary, tmp_path, [])
    assert_nothing_acknowledged_was_lost(result)
