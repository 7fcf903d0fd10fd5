"""Instrumentation benchmark: otel-ops against an uninstrumented app and the stock OpenTelemetry setup,
measured in the same run on loopback, reported as ratios.

    .venv/bin/python -m bench.instrumentation [--seconds 8] [--rounds 2]

1. Throughput (wrk, one uvicorn worker, traces + metrics + logs at 100% sampling); target >= 0.60x. Also
   with a span processor of the app's own on the tracer provider (server spans then go through the SDK).
2. One JSON log line with trace correlation (format + full ``logger.info`` to /dev/null); target <= 4 us.
3. Shutdown time with the collector down; target < 2 s.
4. Delivery ratio with the collector up, after SIGTERM; target 100%.
5. Interpreter start-up with and without otel-ops' start-up hook (what ``otel-ops run`` adds to a process).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
VARIANTS = ("none", "stock", "otel-ops")
# With two or more cores, the server gets core 0 to itself; load generator and receiver share core 1.
_CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
SERVER_CPU = ["taskset", "-c", str(_CORES[0])] if len(_CORES) >= 2 and shutil.which("taskset") else []
LOAD_CPU = ["taskset", "-c", str(_CORES[1])] if SERVER_CPU else []


class Receiver:
    """A minimal OTLP/HTTP endpoint: answers 200 at once; counts spans and logs when asked to."""

    def __init__(self, count: bool = False) -> None:
        self.count = count
        self.spans = 0
        self.logs = 0
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests += 1
                if receiver.count:
                    receiver._count(self.path, body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _count(self, path: str, body: bytes) -> None:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        if path.endswith("/v1/traces"):
            message = ExportTraceServiceRequest.FromString(body)
            self.spans += sum(  # server spans: one per request (the stock setup adds two ASGI child spans)
                1 for rs in message.resource_spans for ss in rs.scope_spans for sp in ss.spans if sp.kind == 2
            )
        elif path.endswith("/v1/logs"):
            message = ExportLogsServiceRequest.FromString(body)
            self.logs += sum(
                1
                for rl in message.resource_logs
                for sl in rl.scope_logs
                for r in sl.log_records
                if sl.scope.name == "bench.app"
            )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# otel-ops with a (no-op) span processor of the app's own on the tracer provider, as Sentry or Langfuse add:
# every server span is then an SDK span that all processors see.
SDK_SERVER_SCRIPT = """
import sys
import uvicorn
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor
from bench.apps import app
trace.get_tracer_provider().add_span_processor(SpanProcessor())
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=False, log_level="warning", loop="uvloop", http="httptools")
"""


def start_server(variant: str, endpoint: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        BENCH_VARIANT="otel-ops" if variant == "otel-ops-sdk" else variant,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_SERVICE_NAME=f"bench-{variant}",
        PYTHONPATH=str(REPO),
    )
    uvicorn_cli = [
        "-m",
        "uvicorn",
        "bench.apps:app",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]
    process = subprocess.Popen(
        [PY, *(["-c", SDK_SERVER_SCRIPT, str(port)] if variant == "otel-ops-sdk" else uvicorn_cli)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the {variant} server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wrk(port: int, seconds: int, connections: int = 32) -> tuple[float, float]:
    """Requests per second and mean latency in milliseconds."""
    output = subprocess.run(
        [
            *LOAD_CPU,
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            f"http://127.0.0.1:{port}/work/7",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s)\b", output)
    if not match or not latency:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[latency.group(2)]
    return float(match.group(1)), float(latency.group(1)) * scale


def throughput(seconds: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Median (requests/s, mean latency ms) per variant; ``otel-ops-down`` exports to a closed port."""
    receiver = Receiver()
    live = f"http://127.0.0.1:{receiver.port}"
    dead = f"http://127.0.0.1:{free_port()}"
    runs = [(v, v, live) for v in VARIANTS] + [("otel-ops-sdk", "otel-ops-sdk", live)]
    runs.append(("otel-ops-down", "otel-ops", dead))
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in runs}
    try:
        for _ in range(rounds):
            for name, variant, endpoint in runs:
                port = free_port()
                server = start_server(variant, endpoint, port)
                try:
                    wrk(port, 2)  # warm-up
                    results[name].append(wrk(port, seconds))
                finally:
                    stop(server)
    finally:
        receiver.close()
    return {
        name: (statistics.median(r[0] for r in runs_), statistics.median(r[1] for r in runs_))
        for name, runs_ in results.items()
    }


def delivery(variant: str, requests: int) -> tuple[float, float]:
    receiver = Receiver(count=True)
    port = free_port()
    server = start_server(variant, f"http://127.0.0.1:{receiver.port}", port)
    try:
        with httpx.Client() as client:
            for i in range(requests):
                client.get(f"http://127.0.0.1:{port}/work/{i}")
    finally:
        stop(server)
        time.sleep(0.5)
        receiver.close()
    return receiver.spans / requests, receiver.logs / requests


SHUTDOWN_SCRIPT = """
import logging, sys, time
variant = sys.argv[1]
if variant == "otel-ops":
    import otel_ops
    otel_ops.configure(logs=otel_ops.LogsOptions(console="none"))
    stop = otel_ops.shutdown
else:
    from opentelemetry import _logs, metrics, trace
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    tp = TracerProvider(); tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter())); trace.set_tracer_provider(tp)
    mp = MeterProvider(metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())])
    metrics.set_meter_provider(mp)
    lp = LoggerProvider(); lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    logging.getLogger().addHandler(LoggingHandler(logger_provider=lp)); logging.getLogger().setLevel(logging.INFO)
    def stop():
        tp.shutdown(); lp.shutdown(); mp.shutdown()
from opentelemetry import trace
tracer = trace.get_tracer("bench")
log = logging.getLogger("bench.app")
for i in range(5000):
    with tracer.start_as_current_span("work"):
        log.info("item %d", i)
start = time.monotonic()
stop()
print(time.monotonic() - start)
"""


def shutdown_seconds(variant: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}", PYTHONPATH=str(REPO))
    try:
        result = subprocess.run(
            [PY, "-c", SHUTDOWN_SCRIPT, variant], env=env, capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        return float("inf")
    return float(result.stdout.strip().splitlines()[-1])


LOG_COST_SCRIPT = """
import logging, os, timeit, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
trace.set_tracer_provider(TracerProvider())
tracer = trace.get_tracer("bench")
devnull = open(os.devnull, "w")

def pjl():
    from pythonjsonlogger.json import JsonFormatter
    class TraceIds(logging.Filter):  # what LoggingInstrumentor-style correlation adds per record
        def filter(self, record):
            ctx = trace.get_current_span().get_span_context()
            record.trace_id = format(ctx.trace_id, "032x")
            record.span_id = format(ctx.span_id, "016x")
            return True
    handler = logging.StreamHandler(devnull)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s"))
    handler.addFilter(TraceIds())
    return handler

def ours():
    from otel_ops.instrumentation._logs import JsonFormatter
    from otel_ops.instrumentation._scrub import Scrubber
    handler = logging.StreamHandler(devnull)
    handler.setFormatter(JsonFormatter("bench", Scrubber()))
    return handler

results = {}
for name, make in (("python-json-logger", pjl), ("otel-ops", ours)):
    handler = make()
    logger = logging.getLogger(f"bench.{name}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    with tracer.start_as_current_span("request"):
        def fresh():
            return logging.LogRecord(logger.name, logging.INFO, "bench.py", 1, "handled item %d for %s", (7, "u"), None)
        def fmt(records):
            for r in records:
                for f in handler.filters:
                    f.filter(r)
                handler.format(r)
        n = 20000
        timings = []
        for _ in range(5):
            records = [fresh() for _ in range(n)]  # records are made outside the timed part
            start = timeit.default_timer()
            fmt(records)
            timings.append((timeit.default_timer() - start) / n)
        best_format = min(timings)
        best_call = min(timeit.repeat(lambda: logger.info("handled item %d for %s", 7, "u"), number=n, repeat=5)) / n
    results[name] = (best_format * 1e6, best_call * 1e6)
for name, (f, c) in results.items():
    print(name, round(f, 2), round(c, 2))
"""


def log_cost() -> dict[str, tuple[float, float]]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    output = subprocess.run(
        [PY, "-c", LOG_COST_SCRIPT], env=env, capture_output=True, text=True, check=True
    ).stdout
    costs = {}
    for line in output.strip().splitlines():
        name, fmt, call = line.rsplit(" ", 2)
        costs[name] = (float(fmt), float(call))
    return costs


def startup_ms(repeat: int = 15) -> dict[str, float]:
    """Median wall time of ``python -c pass``, plain and with otel-ops' start-up hook (as ``otel-ops run``
    sets it up; telemetry configured, nothing exported)."""
    auto = REPO / "otel_ops" / "instrumentation" / "_auto"
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    base.update(PYTHONPATH=str(REPO), OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="none")
    base.update(OTEL_LOGS_EXPORTER="none", OTEL_OPS_LOG_CONSOLE="none")
    variants = {
        "plain": base,
        "otel-ops": dict(base, OTEL_OPS_AUTO="1", PYTHONPATH=os.pathsep.join([str(auto), str(REPO)])),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, env in variants.items():
            start = time.perf_counter()
            subprocess.run([PY, "-c", "pass"], env=env, check=True)
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per variant (median is reported)")
    parser.add_argument("--requests", type=int, default=2000, help="requests for the delivery check")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: run `make setup` (it installs Debian's wrk)")
    if LOAD_CPU:
        os.sched_setaffinity(0, {_CORES[1]})  # the receiver threads run in this process

    rps = throughput(args.seconds, args.rounds)
    costs = log_cost()
    shutdown = {v: shutdown_seconds(v) for v in ("stock", "otel-ops")}
    delivered = {v: delivery(v, args.requests) for v in ("stock", "otel-ops")}
    startup = startup_ms()

    base = rps["none"][0]
    print(
        textwrap.dedent(
            f"""
            ### Throughput (trivial endpoint, one INFO log line per request, 100% sampling)
            | variant | requests/s | ratio to uninstrumented | mean latency (32 connections) |
            | --- | ---: | ---: | ---: |
            | uninstrumented | {base:.0f} | 1.00x | {rps["none"][1]:.2f} ms |
            | stock OpenTelemetry | {rps["stock"][0]:.0f} | {rps["stock"][0] / base:.2f}x | {rps["stock"][1]:.2f} ms |
            | otel-ops | {rps["otel-ops"][0]:.0f} | {rps["otel-ops"][0] / base:.2f}x (target >= 0.60x) | {rps["otel-ops"][1]:.2f} ms |
            | otel-ops + a span processor of the app's own (SDK server spans) | {rps["otel-ops-sdk"][0]:.0f} | {rps["otel-ops-sdk"][0] / base:.2f}x | {rps["otel-ops-sdk"][1]:.2f} ms |
            | otel-ops, collector down | {rps["otel-ops-down"][0]:.0f} | {rps["otel-ops-down"][0] / base:.2f}x | {rps["otel-ops-down"][1]:.2f} ms |

            ### One JSON log line with trace correlation (us, best of 5)
            | formatter | format a record | full logger.info to /dev/null |
            | --- | ---: | ---: |
            | python-json-logger + trace-id filter | {costs["python-json-logger"][0]:.2f} | {costs["python-json-logger"][1]:.2f} |
            | otel-ops JsonFormatter (with scrubbing) | {costs["otel-ops"][0]:.2f} | {costs["otel-ops"][1]:.2f} |

            ### Shutdown with the collector down (5000 spans + 5000 logs queued)
            | variant | seconds |
            | --- | ---: |
            | stock OpenTelemetry | {shutdown["stock"]:.2f} |
            | otel-ops | {shutdown["otel-ops"]:.2f} (target < 2 s) |

            ### Delivery with the collector up ({args.requests} requests, then SIGTERM)
            | variant | server spans delivered | logs delivered |
            | --- | ---: | ---: |
            | stock OpenTelemetry | {delivered["stock"][0]:.1%} | {delivered["stock"][1]:.1%} |
            | otel-ops | {delivered["otel-ops"][0]:.1%} | {delivered["otel-ops"][1]:.1%} |

            ### Interpreter start-up (`python -c pass`, median of 15)
            | variant | ms |
            | --- | ---: |
            | plain | {startup["plain"]:.0f} |
            | with otel-ops' start-up hook (`otel-ops run`) | {startup["otel-ops"]:.0f} |
            """
        )
    )


if __name__ == "__main__":
    main()
