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

Delivery is at least once. A batch the backend received but had not confirmed when the Collector was
killed is still in the persistent queue and is sent again after the restart: those items, and only
those, arrive twice. With the backend down at the kill nothing was in flight, so nothing arrives twice.
Prometheus keeps one sample per series and timestamp, so a re-sent point is stored once.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
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
from tests.support.otlp_sink import OtlpSink, Received, any_value

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

    def wait_for_more_acks(self, items: int, timeout: float = 30.0) -> None:
        """Until ``items`` more items than now were acknowledged."""
        wanted = self.acked_count() + items
        wait_for(lambda: self.acked_count() >= wanted, timeout, f"{items} more items acknowledged", 0.01)

    def wait_for_a_failed_request(self, timeout: float = 10.0) -> None:
        """Until a request failed (the Collector is gone): the client kept sending and got no answer."""
        wanted = self.failed_requests + 1
        wait_for(lambda: self.failed_requests >= wanted, timeout, "a request without an answer", 0.01)

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


def exporter_metric(ports: CollectorPorts, name: str, exporter: str) -> float | None:
    """The sum of the Collector's own metric ``name`` for ``exporter``; None while it does not report it."""
    _, body = http_get(f"http://127.0.0.1:{ports.metrics}/metrics")
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in body.decode().splitlines()
        if line.startswith(f"{name}{{") and exporter in line
    ]
    return sum(values) if values else None


def queue_size(ports: CollectorPorts, exporter: str) -> float:
    return exporter_metric(ports, "otelcol_exporter_queue_size", exporter) or 0.0


def loki_queue_drained(ports: CollectorPorts) -> bool:
    """Nothing left to send to Loki: the queue (with the batch being filled) is empty, no request is out."""
    queued = exporter_metric(ports, "otelcol_exporter_queue_size", LOKI_EXPORTER)
    sending = exporter_metric(ports, "otelcol_exporter_in_flight_requests", LOKI_EXPORTER)
    return queued == 0 and sending == 0


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
    acked: dict[int, float]  # id -> when the Collector acknowledged it (monotonic)
    deliveries: Counter[int]  # id -> how many times the backend received (or stored) it
    killed_at: float
    in_flight: set[int] = field(default_factory=set)  # ids the backend had received, unconfirmed, at the kill

    @property
    def lost(self) -> list[int]:
        return sorted(set(self.acked) - set(self.deliveries))

    @property
    def duplicated(self) -> dict[int, int]:
        return {i: n for i, n in sorted(self.deliveries.items()) if n > 1}


def id_ranges(ids: Iterable[int], shown: int = 6) -> str:
    """``0..49, 100..149 (+3 more ranges)``: consecutive ids folded into ranges."""
    ranges: list[list[int]] = []
    for i in sorted(ids):
        if ranges and i == ranges[-1][1] + 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    text = ", ".join(f"{a}..{b}" if a != b else str(a) for a, b in ranges[:shown])
    return text + (f" (+{len(ranges) - shown} more ranges)" if len(ranges) > shown else "")


def body_ids(run: str, bodies: Iterable[object]) -> list[int]:
    prefix = f"{run}-"
    return [int(str(body)[len(prefix) :]) for body in bodies if str(body).startswith(prefix)]


def request_ids(run: str, requests: Iterable[Received]) -> set[int]:
    bodies = (
        any_value(record.body)
        for request in requests
        for resource in request.message.resource_logs
        for scope in resource.scope_logs
        for record in scope.log_records
    )
    return set(body_ids(run, bodies))


@pytest.fixture
def loki_port() -> int:
    return free_port()


def wait_until(done: Callable[[], bool], timeout: float = 90) -> None:
    """Poll ``done`` until it holds or ``timeout`` passed; the assertions after it say what is missing."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.2)


def crash_with_logs_to_loki(
    collector_binary: Path, workdir: Path, loki_port: int, extra_configs: list[Path], loki_up_at_kill: bool
) -> CrashResult:
    """Logs streaming through the Collector to Loki, ``kill -9`` mid-stream, restart, until all is sent.

    With ``loki_up_at_kill`` Loki keeps the batches it receives but answers none once the kill is near, so
    the Collector dies with a batch in flight; otherwise Loki is down from before the kill until the restart.
    """
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
    received_before_restart: list[int] = []
    try:

        def delivered() -> set[int]:
            return set(body_ids(stream.run, (r["body"] for r in loki.logs()))) | set(received_before_restart)

        wait_for(lambda: len(delivered()) >= 500, 30, "logs never reached the Loki stand-in")
        if loki_up_at_kill:
            loki.hold_answers()
            wait_for(loki.held_requests, 30, "the Collector sent Loki no batch while answers were held", 0.01)
        else:
            # Down: refuse on the connections the exporter keeps alive, and stop listening for new ones.
            loki.status = 503
            loki.stop()
            wait_for(
                lambda: queue_size(ports, LOKI_EXPORTER) >= 1000,
                30,
                "records did not pile up in the persistent queue while Loki was down",
            )
        # Kill once 500 more records were acknowledged since the queue last grew (a batch processor in front
        # of the queue, flushing once a second, would then hold acknowledged records), right after a 200.
        queued = queue_size(ports, LOKI_EXPORTER)
        wait_for(lambda: queue_size(ports, LOKI_EXPORTER) != queued, 10, "the queue stopped growing", 0.01)
        stream.wait_for_more_acks(10 * RECORDS_PER_REQUEST)
        stream.wait_for_ack_after(time.monotonic())
        killed_at = time.monotonic()
        kill_9(collector)
        in_flight = request_ids(stream.run, loki.held_requests())
        stream.wait_for_a_failed_request()
        stream.stop()
        acked = dict(stream.acked)

        received_before_restart = body_ids(stream.run, (r["body"] for r in loki.logs()))
        if loki_up_at_kill:
            loki.answer()  # to connections the killed Collector left behind
            loki.clear()
        else:
            queued_at_kill = len(acked) - len(set(received_before_restart))
            assert queued_at_kill >= 1000, f"only {queued_at_kill} records queued: too few to test anything"
            loki = OtlpSink(http_port=loki_port, http_path_prefix="/otlp", grpc_port=None).start()
        collector, _ = start_collector(collector_binary, configs, workdir, env=env, ports=ports)
        wait_until(lambda: set(acked) <= delivered() and loki_queue_drained(ports))
        received = received_before_restart + body_ids(stream.run, (r["body"] for r in loki.logs()))
        return CrashResult(
            acked=acked, deliveries=Counter(received), killed_at=killed_at, in_flight=in_flight
        )
    finally:
        stream.stop()
        collector.stop()
        loki.stop()


def assert_nothing_acknowledged_was_lost(result: CrashResult) -> None:
    lost = result.lost
    if not lost:
        return
    ages = [result.killed_at - result.acked[i] for i in lost]
    summary = (
        f"{len(lost)} of {len(result.acked)} acknowledged items lost (ids {id_ranges(lost)}), "
        f"acknowledged {max(ages):.2f}..{min(ages):.2f} s before the kill"
    )
    if max(ages) <= BATCH_TIMEOUT_S + 0.5 and lost == list(range(lost[0], lost[-1] + 1)):
        raise BatchProcessorLoss(
            f"{summary}: the records the batch processor held (timeout {BATCH_TIMEOUT_S} s) when the "
            "Collector was killed"
        )
    raise AssertionError(summary)


def assert_only_the_in_flight_batch_arrived_twice(result: CrashResult, what: str) -> None:
    """At least once, and no more: what the backend had received unconfirmed at the kill arrives once
    more after the restart (it was still queued), everything else exactly once."""
    duplicated = result.duplicated
    problems = []
    repeated_elsewhere = sorted(i for i in duplicated if i not in result.in_flight)
    if repeated_elsewhere:
        problems.append(
            f"{len(repeated_elsewhere)} {what} that were not in flight at the kill arrived more than once "
            f"(ids {id_ranges(repeated_elsewhere)})"
        )
    thrice = sorted(i for i, n in duplicated.items() if n > 2)
    if thrice:
        problems.append(f"{len(thrice)} {what} arrived three times or more (ids {id_ranges(thrice)})")
    not_resent = sorted(result.in_flight - set(duplicated))
    if not_resent:
        problems.append(
            f"{len(not_resent)} of the {len(result.in_flight)} {what} in flight at the kill, never confirmed "
            f"by the backend, were not sent again after the restart (ids {id_ranges(not_resent)})"
        )
    in_flight = f"in flight at the kill: {len(result.in_flight)} ({id_ranges(result.in_flight) or 'none'})"
    assert not problems, "; ".join(problems) + f"; {in_flight}"


def test_acknowledged_logs_survive_kill_9_during_a_loki_outage(
    collector_binary: Path, tmp_path: Path, loki_port: int
) -> None:
    result = crash_with_logs_to_loki(collector_binary, tmp_path, loki_port, [], loki_up_at_kill=False)
    assert_nothing_acknowledged_was_lost(result)
    # Loki was down when the Collector was killed, so nothing was in flight: nothing arrives twice.
    assert not result.in_flight
    assert_only_the_in_flight_batch_arrived_twice(result, "log records")


def test_a_batch_in_flight_at_kill_9_is_sent_again_and_nothing_else_twice(
    collector_binary: Path, tmp_path: Path, loki_port: int
) -> None:
    result = crash_with_logs_to_loki(collector_binary, tmp_path, loki_port, [], loki_up_at_kill=True)
    assert_nothing_acknowledged_was_lost(result)
    assert result.in_flight, "no batch was in flight at the kill"
    assert_only_the_in_flight_batch_arrived_twice(result, "log records")


def test_metrics_sent_during_a_prometheus_outage_all_arrive(collector_binary: Path, tmp_path: Path) -> None:
    prometheus_port = free_port()
    prometheus = start_prometheus(tmp_path / "prometheus", port=prometheus_port)
    configs = collector_build.fragments(["prometheus"])
    env = {"OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": prometheus.remote_write_url}
    collector, ports = start_collector(collector_binary, configs, tmp_path / "collector", env=env)
    stream = Stream(ports.http, "/v1/metrics", metrics_request).start()
    promql = f'count(last_over_time(crash_probe{{run="{stream.run}"}}[15m]))'

    def received() -> int:
        result = prometheus.query(promql)
        return int(float(result[0]["value"][1])) if result else 0

    try:
        wait_for(lambda: received() >= 500, 30, "metrics never reached Prometheus")
        assert prometheus.process.stop() == 0
        # The exporter logs nothing and counts no failures while Prometheus is down (its
        # otelcol_exporter_sent_metric_points counts points written to the WAL); the WAL backlog shows it.
        wait_for(lambda: wal_backlog(ports) > 100_000, 30, "metrics did not pile up in the WAL")
        stream.wait_for_more_acks(3000)  # accepted while Prometheus is down
        prometheus = start_prometheus(tmp_path / "prometheus", port=prometheus_port)
        stream.wait_for_more_acks(1000)  # and more once it is back, behind the backlog
        stream.stop()
        sent = stream.acked_count()
        assert stream.refused_requests == 0, f"the Collector refused {stream.refused_requests} requests"
        wait_until(lambda: received() >= sent)
        arrived = received()
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

    def stored() -> Counter[int]:
        """Samples Prometheus holds per point (each point is its own series, labelled ``seq``)."""
        series = prometheus.query(f'count_over_time(crash_probe{{run="{stream.run}"}}[15m])')
        return Counter({int(s["metric"]["seq"]): int(float(s["value"][1])) for s in series})

    try:
        wait_for(lambda: len(stored()) >= 500, 30, "metrics never reached Prometheus")
        assert prometheus.process.stop() == 0
        wait_for(lambda: wal_backlog(ports) > 100_000, 30, "metrics did not pile up in the WAL")
        # Kill once 500 more points were acknowledged since the WAL last grew (a batch processor in front of
        # the exporter, flushing once a second, would then hold acknowledged points), right after a 200.
        written = wal_counters(ports)["written"]
        wait_for(lambda: wal_counters(ports)["written"] != written, 10, "the WAL stopped growing", 0.01)
        stream.wait_for_more_acks(10 * RECORDS_PER_REQUEST)
        stream.wait_for_ack_after(time.monotonic())
        killed_at = time.monotonic()
        kill_9(collector)
        stream.wait_for_a_failed_request()
        stream.stop()
        acked = dict(stream.acked)

        prometheus = start_prometheus(workdir / "prometheus", port=prometheus_port)
        # As otel-ops does before every Collector start: a kill mid-append can tear the WAL's last entry.
        repair_remote_write_wal(workdir / "collector" / "storage")
        collector, _ = start_collector(collector_binary, configs, workdir / "collector", env=env, ports=ports)
        # Prometheus has nothing more to receive once it holds every acknowledged point: a point sent twice
        # is one sample (same series, same timestamp), so there is no later duplicate to wait for.
        wait_until(lambda: set(acked) <= set(stored()))
        return CrashResult(acked=acked, deliveries=stored(), killed_at=killed_at)
    finally:
        stream.stop()
        collector.stop()
        prometheus.process.stop()


def test_acknowledged_metrics_survive_kill_9_during_a_prometheus_outage(
    collector_binary: Path, tmp_path: Path
) -> None:
    result = crash_while_prometheus_is_down(collector_binary, tmp_path, [])
    assert_nothing_acknowledged_was_lost(result)
    # Prometheus was down at the kill: nothing in flight, and each point is stored once.
    assert_only_the_in_flight_batch_arrived_twice(result, "metric points")
