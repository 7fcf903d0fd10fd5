"""A dead collector must not hurt the host: bounded memory, drops counted, one warning, fast exit; and a
healthy one gets everything at a clean shutdown."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import httpx

from tests.instrumentation.conftest import Server, free_port, run_python, service_env

DEAD_COLLECTOR_SCRIPT = """
import logging, time, otel_ops
telemetry = otel_ops.configure()
log = logging.getLogger("app")
tracer = __import__("opentelemetry.trace", fromlist=["x"]).get_tracer("t")
for i in range(20000):
    with tracer.start_as_current_span(f"work"):
        log.info("item %d", i)
time.sleep(0.5)
spans = telemetry.queues["traces"]
print("QUEUED", len(spans), "CAP", spans.max_queue_size, "DROPPED", spans.drops.total())
start = time.monotonic()
otel_ops.shutdown()
print("SHUTDOWN_SECONDS", round(time.monotonic() - start, 3))
"""


def test_dead_collector_bounded_queue_counted_drops_one_warning_fast_shutdown():
    port = free_port()  # nothing listens here
    env = service_env(None, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
    started = time.monotonic()
    result = run_python(DEAD_COLLECTOR_SCRIPT, env)
    elapsed = time.monotonic() - started
    fields = next(line for line in result.stdout.splitlines() if line.startswith("QUEUED")).split()
    fields += next(line for line in result.stdout.splitlines() if line.startswith("SHUTDOWN")).split()
    queued, capacity, dropped = int(fields[1]), int(fields[3]), int(fields[5])
    assert queued <= capacity == 2048
    assert dropped >= 20000 - capacity
    shutdown_seconds = float(fields[fields.index("SHUTDOWN_SECONDS") + 1])
    assert shutdown_seconds < 2.0, f"shutdown took {shutdown_seconds}s with the collector down"
    assert elapsed < 20
    warnings = [line for line in result.stdout.splitlines() if '"logger":"otel_ops.export"' in line]
    assert 1 <= len(warnings) <= 6, warnings  # rate-limited: a few lines, not one per batch or item


BLACKHOLE_SCRIPT = """
import socket, time, otel_ops
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(0)
port = listener.getsockname()[1]   # accepts connections, never answers
otel_ops.configure(export=otel_ops.ExportOptions(endpoint=f"http://127.0.0.1:{port}"))
tracer = __import__("opentelemetry.trace", fromlist=["x"]).get_tracer("t")
with tracer.start_as_current_span("x"):
    pass
start = time.monotonic()
otel_ops.shutdown()
print(round(time.monotonic() - start, 3))
"""


def test_unresponsive_collector_cannot_stretch_shutdown_beyond_its_budget():
    result = run_python(BLACKHOLE_SCRIPT, service_env(None, OTEL_OPS_LOG_CONSOLE="none"))
    assert float(result.stdout.strip()) < 2.5


def test_every_span_and_log_delivered_on_sigterm_under_uvicorn(sink, servers):
    port = free_port()
    server = Server(
        [sys.executable, "-m", "uvicorn", "tests.instrumentation.demo_app:app", "--port", str(port)],
        service_env(sink, OTEL_BSP_SCHEDULE_DELAY="60000", OTEL_BLRP_SCHEDULE_DELAY="60000"),
        port,
        Path(__file__).resolve().parents[2],
    )
    servers.append(server)
    with httpx.Client() as client:
        for i in range(300):
            assert client.get(f"{server.url}/items/{i}").status_code == 200
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    spans = [s for s in sink.spans() if s["kind"] == 2]
    logs = [r for r in sink.logs() if r["scope"] == "demo"]
    assert len(spans) == 300, "spans lost at shutdown"
    assert len(logs) == 300, "logs lost at shutdown"
