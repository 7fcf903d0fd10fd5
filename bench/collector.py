"""Collector benchmark: sustained throughput, memory and span-metrics freshness of the otel-ops Collector.

    .venv/bin/python -m bench.collector [--seconds 20] [--warmup 5] [--paced 0.5,0.75] [--probes 20]

The real configuration (base + prometheus + loki + tempo fragments) runs on ONE core (``taskset`` core 0,
``GOMAXPROCS=1``, ``GOMEMLIMIT`` at 80% of the memory limiter). Everything else (load generator, the
Loki/Tempo stand-ins that answer OK without decoding, Prometheus 2.42) runs on the other core.

1. Throughput: pre-encoded OTLP/HTTP batches of 512 spans (traces of 8 spans with a client/server pair) or
   512 log records, POSTed from ``--threads`` keep-alive connections as fast as the Collector answers,
   then paced at ``--paced`` fractions of that rate (sustained means: everything accepted, nothing piling
   up, tail sampling deciding on every trace). Counted by the Collector itself
   (``otelcol_receiver_accepted_*``, ``otelcol_exporter_sent_*``, ``otelcol_exporter_queue_size``,
   ``otelcol_processor_tail_sampling_*``) over ``--seconds`` after ``--warmup``.
2. Memory: VmRSS sampled every 0.5 s (steady = median of the second half of each phase), VmHWM (peak).
3. Freshness: ``--probes`` spans with unique names, each sent right after it ends; the time from its end
   timestamp until ``traces_span_metrics_calls_total{span_name="<name>"}`` is returned by a Prometheus
   query (polled every 100 ms). Measured with the shipped span metrics flush interval and with 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from bench.collector_load import (
    LoadGenerator,
    LoadResult,
    OkGrpcReceiver,
    OkHttpReceiver,
    cpu_seconds,
    log_batch,
    memory_kib,
    scrape,
    total,
    trace_batch,
)
from otel_ops.stack import collector_build

PROMETHEUS = "/usr/bin/prometheus"
HOST = "127.0.0.1"
MEMORY_LIMIT_MIB = 1024  # the shipped default of OTEL_OPS_MEMORY_LIMIT_MIB
FRESHNESS_TARGET_S = 5.0
_CORES = sorted(os.sched_getaffinity(0))
COLLECTOR_CORE = _CORES[0]
OTHER_CORES = set(_CORES[1:]) or {_CORES[0]}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"not ready within {timeout}s: {url}\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@dataclass
class Collector:
    process: subprocess.Popen[bytes]
    command: list[str]
    env: dict[str, str]
    http_port: int
    metrics_port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def metrics(self) -> list[tuple[str, str, float]]:
        return scrape(self.metrics_port)


def start_collector(workdir: Path, backends_env: dict[str, str], extra: list[Path]) -> Collector:
    workdir.mkdir(parents=True, exist_ok=True)
    binary = collector_build.ensure_collector()
    ports = {name: free_port() for name in ("grpc", "http", "health", "metrics")}
    env = {
        "OTEL_OPS_COLLECTOR_HOST": HOST,
        "OTEL_OPS_OTLP_GRPC_PORT": str(ports["grpc"]),
        "OTEL_OPS_OTLP_HTTP_PORT": str(ports["http"]),
        "OTEL_OPS_HEALTH_PORT": str(ports["health"]),
        "OTEL_OPS_COLLECTOR_METRICS_PORT": str(ports["metrics"]),
        "OTEL_OPS_COLLECTOR_STORAGE_DIR": str(workdir / "storage"),
        "GOMAXPROCS": "1",
        "GOMEMLIMIT": f"{int(MEMORY_LIMIT_MIB * 0.8)}MiB",
        **backends_env,
    }
    fragments = [*collector_build.fragments(["prometheus", "loki", "tempo"]), *extra]
    configs = [f"--config={path}" for path in fragments]
    command = ["taskset", "-c", str(COLLECTOR_CORE), str(binary), *configs]
    log = workdir / "collector.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}, cwd=workdir
        )
    wait_http(f"http://{HOST}:{ports['health']}/", 60, process, log)
    return Collector(process, command, env, ports["http"], ports["metrics"], log)


@dataclass
class Prometheus:
    process: subprocess.Popen[bytes]
    port: int

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"http://{HOST}:{self.port}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        with urllib.request.urlopen(url, timeout=5) as response:
            return list(json.loads(response.read())["data"]["result"])


def start_prometheus(workdir: Path) -> Prometheus:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n")
    port = free_port()
    log = workdir / "prometheus.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address={HOST}:{port}",
                "--web.enable-remote-write-receiver",
                "--enable-feature=exemplar-storage",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_http(f"http://{HOST}:{port}/-/ready", 60, process, log)
    return Prometheus(process, port)


@dataclass
class Phase:
    signal: str
    seconds: float
    load: LoadResult
    accepted: float
    refused: float
    exported: dict[str, float]
    queue_growth: dict[str, float]
    enqueue_failed: float
    cpu: float
    rss_steady_mib: float
    rss_max_mib: float
    loadgen_cpu: float
    offered: float | None
    tail_sampling: dict[str, float] = field(default_factory=dict)


@dataclass
class Freshness:
    flush_interval: str
    delays: list[float] = field(default_factory=list)
    missing: int = 0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.delays)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
        return ordered[index]


class MemorySampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), memory_kib(self.pid)[0]))
            self._stop.wait(0.5)

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def window(self, start: float, end: float) -> list[int]:
        return [kib for t, kib in self.samples if start <= t <= end]


SIGNALS = {
    "traces": {
        "path": "/v1/traces",
        "factory": trace_batch,
        "accepted": "otelcol_receiver_accepted_spans",
        "refused": "otelcol_receiver_refused_spans",
        "sent": "otelcol_exporter_sent_spans",
        "enqueue_failed": "otelcol_exporter_enqueue_failed_spans",
        "exporters": ['exporter="otlp_grpc/tempo"'],
    },
    "logs": {
        "path": "/v1/logs",
        "factory": log_batch,
        "accepted": "otelcol_receiver_accepted_log_records",
        "refused": "otelcol_receiver_refused_log_records",
        "sent": "otelcol_exporter_sent_log_records",
        "enqueue_failed": "otelcol_exporter_enqueue_failed_log_records",
        "exporters": ['exporter="otlp_http/loki"'],
    },
}


def run_phase(
    collector: Collector,
    sampler: MemorySampler,
    signal_name: str,
    args: argparse.Namespace,
    rate: float | None = None,
) -> Phase:
    spec = SIGNALS[signal_name]
    load = LoadGenerator(
        HOST, collector.http_port, spec["path"], spec["factory"], threads=args.threads, rate=rate
    ).start()
    own_cpu0 = time.process_time()
    time.sleep(args.warmup)
    before = collector.metrics()
    cpu0, t0, own0 = cpu_seconds(collector.pid), time.monotonic(), time.process_time()
    time.sleep(args.seconds)
    after = collector.metrics()
    cpu1, t1, own1 = cpu_seconds(collector.pid), time.monotonic(), time.process_time()
    result = load.stop()
    del own_cpu0
    elapsed = t1 - t0

    def delta(name: str, label: str = 'receiver="otlp"') -> float:
        return total(after, name, label) - total(before, name, label)

    exported = {label: delta(spec["sent"], label) / elapsed for label in spec["exporters"]}
    exported['exporter="prometheus_remote_write" (metric points)'] = (
        delta("otelcol_exporter_sent_metric_points", 'exporter="prometheus_remote_write"') / elapsed
    )
    queue_growth = {
        label: total(after, "otelcol_exporter_queue_size", label)
        - total(before, "otelcol_exporter_queue_size", label)
        for label in spec["exporters"]
    }
    tail_sampling = {
        name: delta(f"otelcol_processor_tail_sampling_{name}", "") / elapsed
        for name in ("new_trace_id_received", "sampling_trace_dropped_too_early")
    }
    rss = sampler.window(t0 + elapsed / 2, t1)
    peak_kib = memory_kib(collector.pid)[1]
    return Phase(
        signal=signal_name,
        seconds=elapsed,
        load=result,
        accepted=delta(spec["accepted"]) / elapsed,
        refused=delta(spec["refused"]) / elapsed,
        exported=exported,
        queue_growth=queue_growth,
        enqueue_failed=sum(delta(spec["enqueue_failed"], label) for label in spec["exporters"]),
        cpu=(cpu1 - cpu0) / elapsed,
        rss_steady_mib=statistics.median(rss) / 1024 if rss else float("nan"),
        rss_max_mib=peak_kib / 1024,
        loadgen_cpu=(own1 - own0) / elapsed,
        offered=rate,
        tail_sampling=tail_sampling if signal_name == "traces" else {},
    )


def probe_request(name: str, end_ns: int) -> bytes:
    span = Span(
        trace_id=uuid.uuid4().bytes,
        span_id=uuid.uuid4().bytes[:8],
        name=name,
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=end_ns - 5_000_000,
        end_time_unix_nano=end_ns,
    )
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="freshness"))])
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=[span])])]
    )
    return request.SerializeToString()


def measure_freshness(
    collector: Collector,
    prometheus: Prometheus,
    probes: int,
    flush_interval: str,
    flush_seconds: float,
    spacing: float = 0.77,
) -> Freshness:
    """Send ``probes`` spans ``spacing`` s apart (not a divisor of the flush interval, so they land at
    different points of the flush cycle) and poll Prometheus until each one's series appears."""
    run = uuid.uuid4().hex[:8]
    ended: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = threading.Event()

    def poll() -> None:
        promql = f'traces_span_metrics_calls_total{{span_name=~"fresh-{run}-.*"}}'
        while not done.is_set():
            try:
                result = prometheus.query(promql)
            except OSError:
                result = []
            now = time.time()
            for series in result:
                seen.setdefault(series["metric"]["span_name"], now)
            done.wait(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    url = f"http://{HOST}:{collector.http_port}/v1/traces"
    for i in range(probes):
        name = f"fresh-{run}-{i:02d}"
        end_ns = time.time_ns()
        request = urllib.request.Request(
            url, data=probe_request(name, end_ns), headers={"Content-Type": "application/x-protobuf"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        ended[name] = end_ns / 1e9
        time.sleep(spacing)
    deadline = time.monotonic() + flush_seconds + 30
    while time.monotonic() < deadline and not set(ended) <= set(seen):
        time.sleep(0.2)
    done.set()
    poller.join()
    fresh = Freshness(flush_interval)
    for name, end in ended.items():
        if name in seen:
            fresh.delays.append(seen[name] - end)
        else:
            fresh.missing += 1
    return fresh


@dataclass
class Backends:
    prometheus: Prometheus
    env: dict[str, str]


@contextmanager
def backends(workdir: Path) -> Iterator[Backends]:
    """Prometheus and the Loki/Tempo stand-ins, shared by every Collector of the run."""
    prometheus = start_prometheus(workdir / "prometheus")
    loki = OkHttpReceiver().start()
    tempo = OkGrpcReceiver().start()
    env = {
        "OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": f"http://{HOST}:{prometheus.port}/api/v1/write",
        "OTEL_OPS_LOKI_OTLP_ENDPOINT": f"http://{HOST}:{loki.port}/otlp",
        "OTEL_OPS_TEMPO_OTLP_ENDPOINT": f"{HOST}:{tempo.port}",
    }
    try:
        yield Backends(prometheus, env)
    finally:
        loki.stop()
        tempo.stop()
        stop(prometheus.process)


@contextmanager
def fresh_collector(workdir: Path, env: dict[str, str], extra: list[Path]) -> Iterator[Collector]:
    """A new Collector with its own storage: every phase starts from the same empty state."""
    collector = start_collector(workdir, env, extra)
    try:
        yield collector
    finally:
        stop(collector.process)


def fmt(value: float) -> str:
    return f"{value:,.0f}"


def report(
    args: argparse.Namespace,
    command: str,
    collector: Collector,
    phases: list[Phase],
    idle_rss: float,
    freshness: list[Freshness],
) -> str:
    version = collector_build.collector_version()
    shown_env = {k: collector.env[k] for k in ("GOMAXPROCS", "GOMEMLIMIT")}
    lines = [
        f"## Collector ({command})",
        "",
        f"Run {time.strftime('%Y-%m-%d')}, otelcol-otel-ops {version}, fragments base + prometheus + loki + "
        f"tempo with their defaults"
        + f". Collector on core {COLLECTOR_CORE} only (`taskset -c {COLLECTOR_CORE}`, "
        + ", ".join(f"`{k}={v}`" for k, v in shown_env.items())
        + f"); load generator ({args.threads} keep-alive OTLP/HTTP connections, pre-encoded 512-item "
        "batches, new trace ids per request), Prometheus 2.42 (remote write) and Loki/Tempo stand-ins that "
        f"answer OK without decoding on core(s) {','.join(map(str, sorted(OTHER_CORES)))}. "
        f"{args.warmup:.0f} s warm-up, then {args.seconds:.0f} s counted by the Collector's own metrics. "
        f"Load average at the start: {args.loadavg} (other work on the machine shares both cores).",
        "",
        "### Throughput, one core",
        "Saturated (offered: as fast as answered), then paced at fractions of the saturated rate. Spans "
        "reach Tempo only after tail sampling's decision wait (10 s), so the Tempo column covers the last "
        "part of each window; traces of 8 spans; dropped = "
        "`otelcol_processor_tail_sampling_sampling_trace_dropped_too_early` (its `num_traces` buffer full).",
        "",
        "| signal | offered/s | accepted/s | refused/s | sent to backend/s | backend queue growth | "
        "new traces/s, of them dropped before a sampling decision | Collector CPU | RSS steady | "
        "RSS max | client 200 / other / errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for phase in phases:
        backend = next(iter(phase.exported))
        others = sum(n for s, n in phase.load.statuses.items() if s != 200)
        unit = "spans" if phase.signal == "traces" else "log records"
        ts = phase.tail_sampling
        traces = (
            f"{fmt(ts['new_trace_id_received'])}, {fmt(ts['sampling_trace_dropped_too_early'])} dropped"
            if ts
            else "-"
        )
        lines.append(
            f"| {phase.signal} ({unit}) | {fmt(phase.offered) if phase.offered else 'max'} | "
            f"{fmt(phase.accepted)} | {fmt(phase.refused)} | "
            f"{fmt(phase.exported[backend])} ({backend.split('=')[1].strip(chr(34))}) | "
            f"{fmt(next(iter(phase.queue_growth.values())))} | {traces} | {phase.cpu:.0%} | "
            f"{phase.rss_steady_mib:.0f} MiB | {phase.rss_max_mib:.0f} MiB | "
            f"{phase.load.statuses.get(200, 0)} / {others} / {phase.load.errors} |"
        )
    lines += [
        "",
        f"Every phase runs a new Collector (empty queues and tail-sampling buffer); RSS max is its VmHWM. "
        f"RSS idle after start: {idle_rss:.0f} MiB. "
        f"Load generator CPU: "
        + ", ".join(f"{p.signal} {p.loadgen_cpu:.0%} of a core" for p in phases)
        + ".",
    ]
    if not freshness:
        return "\n".join(lines)
    lines += [
        "",
        f"### Freshness: span end -> `traces_span_metrics_calls_total{{span_name=...}}` queryable "
        f"({args.probes} probes, idle Collector)",
        "| span metrics flush interval | p50 | p95 | max | not seen | target p95 <= 5 s |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for fresh in freshness:
        p95 = fresh.percentile(0.95)
        ok = "met" if fresh.missing == 0 and p95 <= FRESHNESS_TARGET_S else "missed"
        lines.append(
            f"| {fresh.flush_interval} | {fresh.percentile(0.5):.2f} s | {p95:.2f} s | "
            f"{max(fresh.delays, default=float('nan')):.2f} s | {fresh.missing} | {ok} |"
        )
    lines += [
        "",
        "The span metrics connector emits its series once per `metrics_flush_interval` "
        "(`OTEL_OPS_METRICS_FLUSH_INTERVAL`), so a span waits up to one interval (half on average) before "
        "its metric leaves the connector; remote write (its WAL and request batching) adds the rest. The "
        "flush interval drives freshness: p95 is about the interval plus a fraction of a second.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per signal")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    parser.add_argument("--threads", type=int, default=4, help="load generator connections")
    parser.add_argument("--signals", default="logs,traces", help="throughput phases, in order")
    parser.add_argument(
        "--paced", default="0.5,0.75", help="after saturating, offer these fractions of the saturated rate"
    )
    parser.add_argument(
        "--probes", type=int, default=20, help="freshness probes per flush interval (0: skip)"
    )
    parser.add_argument(
        "--fast-flush", default="1s", help="second flush interval to measure freshness with ('' to skip)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)
    command = shlex.join([".venv/bin/python", "-m", "bench.collector", *(argv or sys.argv[1:])])
    if not shutil.which("taskset") or len(_CORES) < 2:
        print("warning: fewer than 2 cores or no taskset: the Collector is not isolated", file=sys.stderr)
    os.sched_setaffinity(0, OTHER_CORES)  # this process and every child but the Collector
    workdir = Path(tempfile.mkdtemp(prefix="otel-ops-bench-collector-"))
    extra: list[Path] = []
    args.loadavg = Path("/proc/loadavg").read_text().split()[0]
    freshness: list[Freshness] = []
    phases: list[Phase] = []
    try:
        with backends(workdir) as shared:
            signals = [name for name in args.signals.split(",") if name]
            fractions = [float(f) for f in args.paced.split(",") if f]
            plan: list[tuple[str, float | None]] = []
            for signal_name in signals:
                plan += [(signal_name, None), *((signal_name, fraction) for fraction in fractions)]
            saturated: dict[str, float] = {}
            for index, (signal_name, fraction) in enumerate(plan):
                rate = None if fraction is None else fraction * saturated[signal_name]
                label = "max" if rate is None else f"{rate:,.0f}/s"
                print(f"throughput: {signal_name} at {label} ...", file=sys.stderr)
                with fresh_collector(workdir / f"phase-{index}", shared.env, extra) as collector:
                    sampler = MemorySampler(collector.pid).start()
                    phase = run_phase(collector, sampler, signal_name, args, rate)
                    sampler.stop()
                phases.append(phase)
                saturated.setdefault(signal_name, phase.accepted)
            with fresh_collector(workdir / "freshness", shared.env, extra) as collector:
                time.sleep(2)
                idle_rss = memory_kib(collector.pid)[0] / 1024
                shown = collector
                if args.probes:
                    print("freshness, shipped flush interval ...", file=sys.stderr)
                    freshness.append(
                        measure_freshness(
                            collector, shared.prometheus, args.probes, "3s (shipped default)", 3.0
                        )
                    )
            if args.probes and args.fast_flush:
                print(f"freshness, flush interval {args.fast_flush} ...", file=sys.stderr)
                env = {**shared.env, "OTEL_OPS_METRICS_FLUSH_INTERVAL": args.fast_flush}
                with fresh_collector(workdir / "freshness-fast", env, extra) as collector:
                    time.sleep(1)
                    seconds = float(args.fast_flush.rstrip("s"))
                    freshness.append(
                        measure_freshness(collector, shared.prometheus, args.probes, args.fast_flush, seconds)
                    )
        print(report(args, command, shown, phases, idle_rss, freshness))
    finally:
        if args.keep:
            print(f"work directory: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
