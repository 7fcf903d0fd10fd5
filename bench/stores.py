"""Trace and log store benchmark: freshness, ``otel-ops explain`` latency, and store memory and disk.

    .venv/bin/python -m bench.stores [--probes 30] [--traces 100000] [--explains 10]

Runs the native stack's Prometheus, Jaeger v2, VictoriaLogs and Collector exactly as ``otel-ops up`` does
(:mod:`otel_ops.stack.native`), on free loopback ports in a temporary state directory.

1. Freshness, two paths measured in the same run:
   - *app*: the instrumented demo service (``otel-ops demo-service``, default export settings) answers a
     request carrying a new ``traceparent``; from the response's arrival until Jaeger returns the trace
     (``/api/v3/traces/<id>``) and VictoriaLogs returns one of its log lines (``trace_id:=<id>``).
   - *collector* (the baseline: the pipeline alone): one span and one log record POSTed as OTLP/HTTP
     to the Collector; from its 200 answer until the same two queries return them.
   Polled every 50 ms; p50, p95 and max over ``--probes`` probes; target p95 <= 5 s.
2. Explain latency: ``otel-ops explain --trace ID --json`` (the whole command, as a person runs it) on
   ``--explains`` traces, first with the stores nearly empty (the baseline), then after ``--traces`` more
   traces of 8 spans and as many log records were stored. Target: <= 2 s with 100 000 traces.
3. Footprint: the stores' VmRSS and the growth of their data directories per million spans and per
   million log records, from that load.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console

from bench.collector_load import SPANS_PER_TRACE, LoadGenerator, log_batch, memory_kib, trace_batch
from otel_ops.stack import native
from otel_ops.stack.ports import COMPONENT_PORTS, StackPorts
from otel_ops.stack.processes import ManagedProcess

HOST = "127.0.0.1"
FRESHNESS_TARGET_S = 5.0
EXPLAIN_TARGET_S = 2.0
POLL_S = 0.05


def _free_ports() -> StackPorts:
    import socket

    names = [attr for attrs in COMPONENT_PORTS.values() for attr in attrs]
    sockets = [socket.socket() for _ in names]
    for sock in sockets:
        sock.bind((HOST, 0))
    ports = {name: sock.getsockname()[1] for name, sock in zip(names, sockets, strict=True)}
    for sock in sockets:
        sock.close()
    return replace(StackPorts(host=HOST), **ports)


def _status(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, data=data, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except OSError:
        return 0, b""


def trace_found(stack: native.NativeStack, trace_id: str) -> bool:
    return _status(f"{stack.jaeger_url}/api/v3/traces/{trace_id}")[0] == 200


def logs_found(stack: native.NativeStack, trace_id: str) -> bool:
    query = urllib.parse.urlencode({"query": f"trace_id:={trace_id}", "limit": "1"}).encode()
    status, body = _status(f"{stack.victorialogs_url}/select/logsql/query", query)
    return status == 200 and bool(body.strip())


def _wait(check, trace_id: str, started: float, timeout: float = 30.0) -> float | None:
    while time.monotonic() - started < timeout:
        if check(trace_id):
            return time.monotonic() - started
        time.sleep(POLL_S)
    return None


@dataclass
class Freshness:
    trace: list[float | None]
    logs: list[float | None]


def _percentiles(values: list[float | None]) -> str:
    seen = sorted(v for v in values if v is not None)
    missing = len(values) - len(seen)
    if not seen:
        return f"- | - | - | {missing}"
    p95 = seen[min(len(seen) - 1, round(0.95 * (len(seen) - 1)))]
    return f"{statistics.median(seen):.2f} s | {p95:.2f} s | {seen[-1]:.2f} s | {missing}"


def _p95(values: list[float | None]) -> float:
    seen = sorted(v if v is not None else float("inf") for v in values)
    return seen[min(len(seen) - 1, round(0.95 * (len(seen) - 1)))]


def freshness_via_app(stack: native.NativeStack, service_url: str, probes: int) -> Freshness:
    result = Freshness([], [])
    for _ in range(probes):
        trace_id = f"{random.getrandbits(128):032x}"
        request = urllib.request.Request(
            f"{service_url}/v1/complete",
            data=b'{"prompt": "def fib(n):", "max_tokens": 64}',
            headers={
                "Content-Type": "application/json",
                "traceparent": f"00-{trace_id}-{random.getrandbits(64):016x}-01",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except urllib.error.HTTPError as exc:  # the demo fails a share of requests on purpose
            exc.read()
        started = time.monotonic()
        result.trace.append(_wait(lambda t: trace_found(stack, t), trace_id, started))
        result.logs.append(_wait(lambda t: logs_found(stack, t), trace_id, started))
    return result


def _probe_requests(trace_id: bytes) -> tuple[bytes, bytes]:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="probe"))])
    now = time.time_ns()
    span_id = random.randbytes(8)
    span = Span(trace_id=trace_id, span_id=span_id, name="probe", kind=2, start_time_unix_nano=now - 10**6)
    span.end_time_unix_nano = now
    spans = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=[span])])]
    )
    record = LogRecord(
        time_unix_nano=now,
        severity_number=9,
        severity_text="INFO",
        body=AnyValue(string_value="probe"),
        trace_id=trace_id,
        span_id=span_id,
    )
    logs = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=[record])])]
    )
    return spans.SerializeToString(), logs.SerializeToString()


def send_probe(stack: native.NativeStack) -> str:
    """POST one span and one log line of a new trace to the Collector (answered 200); the trace id."""
    raw = random.randbytes(16)
    spans, logs = _probe_requests(raw)
    for path, body in (("/v1/traces", spans), ("/v1/logs", logs)):
        request = urllib.request.Request(
            stack.otlp_http_endpoint + path, data=body, headers={"Content-Type": "application/x-protobuf"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    return raw.hex()


def freshness_via_collector(stack: native.NativeStack, probes: int) -> Freshness:
    result = Freshness([], [])
    for _ in range(probes):
        trace_id = send_probe(stack)
        started = time.monotonic()
        result.trace.append(_wait(lambda t: trace_found(stack, t), trace_id, started))
        result.logs.append(_wait(lambda t: logs_found(stack, t), trace_id, started))
    return result


def explain_seconds(stack: native.NativeStack, trace_ids: list[str]) -> list[float]:
    """Wall time of ``otel-ops explain --trace ID --json`` for each id (the command must succeed)."""
    times = []
    env = {
        **os.environ,
        "OTEL_OPS_JAEGER_URL": stack.jaeger_url,
        "OTEL_OPS_VICTORIALOGS_URL": stack.victorialogs_url,
        "OTEL_OPS_PROMETHEUS_URL": stack.prometheus_url,
    }
    for trace_id in trace_ids:
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from otel_ops.cli import main; main()",
                "explain",
                "--trace",
                trace_id,
                "--json",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        elapsed = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"explain --trace {trace_id} failed:\n{done.stdout}\n{done.stderr}")
        times.append(elapsed)
    return times


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _rss_mib(process: ManagedProcess) -> float:
    assert process.popen is not None
    return memory_kib(process.popen.pid)[0] / 1024


def load(stack: native.NativeStack, traces: int) -> tuple[int, int, float]:
    """Send ``traces`` traces of 8 spans and as many log records; returns (spans, records, seconds)."""
    host, port = HOST, stack.ports.otlp_http
    spans_wanted, records_wanted = traces * SPANS_PER_TRACE, traces
    started = time.monotonic()
    spans = LoadGenerator(host, port, "/v1/traces", trace_batch, threads=2).start()
    while spans.result.items < spans_wanted:
        time.sleep(0.2)
    span_result = spans.stop()
    logs = LoadGenerator(host, port, "/v1/logs", log_batch, threads=2).start()
    while logs.result.items < records_wanted:
        time.sleep(0.2)
    log_result = logs.stop()
    return span_result.items, log_result.items, time.monotonic() - started


def _drained(stack: native.NativeStack, timeout: float = 600.0) -> None:
    """Wait until the Collector's queues to Jaeger and VictoriaLogs are empty."""
    from bench.collector_load import scrape, total

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples = scrape(stack.ports.collector_metrics)
        if total(samples, "otelcol_exporter_queue_size", 'exporter="otlp_grpc/jaeger"') == 0 and (
            total(samples, "otelcol_exporter_queue_size", 'exporter="otlp_http/victorialogs"') == 0
        ):
            return
        time.sleep(1.0)
    raise SystemExit("the Collector's queues to the stores did not drain")


def _seeded_traces(stack: native.NativeStack, count: int) -> list[str]:
    """``count`` traces (span + log line) sent through the Collector and queryable; their ids."""
    ids = [send_probe(stack) for _ in range(count)]
    for trace_id in ids:
        if (
            _wait(lambda t: trace_found(stack, t) and logs_found(stack, t), trace_id, time.monotonic())
            is None
        ):
            raise SystemExit(f"trace {trace_id} never became queryable")
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--explains", type=int, default=10)
    args = parser.parse_args()
    console = Console(stderr=True)
    binaries = native.locate_binaries(console)
    with tempfile.TemporaryDirectory(prefix="otel-ops-bench-stores-") as tmp:
        state = Path(tmp)
        stack = native.NativeStack(ports=_free_ports(), state=state)
        stack.start(binaries, ready_timeout=60)
        try:
            service_port = _free_ports().sidecar
            service = ManagedProcess(
                name="demo service",
                command=[sys.executable, "-m", "otel_ops.demo", "--host", HOST, "--port", str(service_port)],
                log=state / "logs" / "demo-service.log",
                ready_url=f"http://{HOST}:{service_port}/health",
                env={"OTEL_EXPORTER_OTLP_ENDPOINT": stack.otlp_http_endpoint},
            )
            stack.supervisor.start(service)
            console.print(f"freshness: {args.probes} probes through the demo service and the Collector")
            via_app = freshness_via_app(stack, f"http://{HOST}:{service_port}", args.probes)
            via_collector = freshness_via_collector(stack, args.probes)
            service.stop()

            console.print("explain on nearly empty stores")
            base_ids = _seeded_traces(stack, args.explains)
            empty = explain_seconds(stack, base_ids)
            processes = {p.name: p for p in stack.supervisor.processes}
            dirs = {"jaeger": state / "jaeger", "victorialogs": state / "victorialogs"}
            disk_before = {name: _du(path) for name, path in dirs.items()}
            console.print(f"loading {args.traces} traces ({args.traces * SPANS_PER_TRACE} spans) and logs")
            spans, records, seconds = load(stack, args.traces)
            _drained(stack)
            loaded_ids = _seeded_traces(stack, args.explains)
            loaded = explain_seconds(stack, loaded_ids)
            rss = {name: _rss_mib(processes[name]) for name in dirs}
            time.sleep(6)  # VictoriaLogs flushes in-memory parts to disk every second; badger its memtable
            disk_after = {name: _du(path) for name, path in dirs.items()}
        finally:
            stack.stop()
    report(args, via_app, via_collector, empty, loaded, spans, records, seconds, rss, disk_before, disk_after)


def report(
    args: argparse.Namespace,
    via_app: Freshness,
    via_collector: Freshness,
    empty: list[float],
    loaded: list[float],
    spans: int,
    records: int,
    seconds: float,
    rss: dict[str, float],
    disk_before: dict[str, int],
    disk_after: dict[str, int],
) -> None:
    load_avg = os.getloadavg()[0]
    print(
        f"## Trace and log stores (`.venv/bin/python -m bench.stores --probes {args.probes} "
        f"--traces {args.traces} --explains {args.explains}`)\n"
    )
    print(
        f"Run {time.strftime('%Y-%m-%d')}: Jaeger v1.75.0 (Badger), VictoriaLogs v1.52.2, otelcol-otel-ops "
        f"with base + prometheus + jaeger + victorialogs, as `otel-ops up` runs them; load average at the "
        f"end {load_avg:.2f} (2 cores, shared with the load generator).\n"
    )
    print(
        f"### Freshness: request end -> queryable ({args.probes} probes, polled every {POLL_S * 1000:.0f} ms)"
    )
    print("| path | store | p50 | p95 | max | not seen in 30 s | target p95 <= 5 s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for path, data in (
        ("app (demo service, default export)", via_app),
        ("collector (OTLP POST, baseline)", via_collector),
    ):
        for store, values in (("trace in Jaeger", data.trace), ("log in VictoriaLogs", data.logs)):
            met = "met" if _p95(values) <= FRESHNESS_TARGET_S else "MISSED"
            print(f"| {path} | {store} | {_percentiles(values)} | {met} |")
    print()
    print(f"### `otel-ops explain --trace ID --json`, whole command ({args.explains} traces each)")
    print("| stores hold | median | p95 | max | ratio to nearly empty (median) | target <= 2 s |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for label, values in (
        ("nearly empty (baseline)", empty),
        (f"+{args.traces:,} traces, +{records:,} logs", loaded),
    ):
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        ratio = statistics.median(values) / statistics.median(empty)
        met = "met" if max(values) <= EXPLAIN_TARGET_S else "MISSED"
        median = statistics.median(values)
        print(f"| {label} | {median:.2f} s | {p95:.2f} s | {max(values):.2f} s | {ratio:.2f}x | {met} |")
    print()
    print(f"### Footprint after {spans:,} spans and {records:,} log records (sent in {seconds:.0f} s)")
    print("| store | RSS | data growth | per million items |")
    print("| --- | ---: | ---: | ---: |")
    for name, items in (("jaeger", spans), ("victorialogs", records)):
        growth = disk_after[name] - disk_before[name]
        mib = growth / 2**20
        print(f"| {name} | {rss[name]:.0f} MiB | {mib:.0f} MiB | {mib / items * 1e6:.0f} MiB |")


if __name__ == "__main__":
    main()
