"""A dead collector must not hurt the host: bounded memory, every item accounted for, a few warnings, and
shutdown returns; a healthy one gets everything at a clean shutdown.

How long shutdown takes with the collector down or unresponsive, and what a dead collector costs per
span and log line, are measured in ``bench/dead_collector.py`` (results in ``bench/RESULTS.md``).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import httpx

from tests.instrumentation.conftest import Server, free_port, run_python, service_env

ITEMS = 20000

DEAD_COLLECTOR_SCRIPT = f"""
import logging, otel_ops
from opentelemetry import trace
telemetry = otel_ops.configure()
log = logging.getLogger("app")
tracer = trace.get_tracer("t")
for i in range({ITEMS}):
    with tracer.start_as_current_span("work"):
        log.info("item %d", i)
spans = telemetry.queues["traces"]
print("QUEUED", len(spans), "CAP", spans.max_queue_size, "DROPPED", spans.drops.total())
delivered = otel_ops.shutdown()
print("SHUTDOWN", delivered, "DROPPED", spans.drops.total(), "EXPORTED", spans.exported)
"""


def _fields(stdout: str, first: str) -> list[str]:
    line = next((line for line in stdout.splitlines() if line.startswith(first)), None)
    assert line is not None, f"no {first} line in the output:\n{stdout}"
    return line.split()


def test_dead_collector_bounded_queue_every_span_counted_few_warnings_shutdown_returns():
    port = free_port()  # claimed, nothing listens here
    env = service_env(None, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
    result = run_python(DEAD_COLLECTOR_SCRIPT, env)  # fails the test if the process hangs or exits non-zero
    queued_line = _fields(result.stdout, "QUEUED")
    queued, capacity, dropped = int(queued_line[1]), int(queued_line[3]), int(queued_line[5])
    assert queued <= capacity == 2048, f"{queued} spans held in memory, capacity {capacity}"
    assert dropped >= ITEMS - capacity, f"only {dropped} of {ITEMS} spans counted as dropped"
    shutdown = _fields(result.stdout, "SHUTDOWN")
    assert shutdown[1] == "False", "shutdown reported everything delivered although nothing listens"
    dropped_at_end, exported = int(shutdown[3]), int(shutdown[5])
    assert (exported, dropped_at_end) == (0, ITEMS), (
        f"{ITEMS} spans made: {exported} exported, {dropped_at_end} counted as dropped; "
        "every span must be one or the other"
    )
    warnings = [line for line in result.stdout.splitlines() if '"logger":"otel_ops.export"' in line]
    assert 1 <= len(warnings) <= 6, warnings  # rate-limited: a few lines, not one per batch or item


BLACKHOLE_SCRIPT = """
import socket, otel_ops
from opentelemetry import trace
listener = socket.socket(); listener.bind(("127.0.0.1", 0)); listener.listen(8); listener.settimeout(30)
port = listener.getsockname()[1]   # accepts connections, never answers
telemetry = otel_ops.configure(export=otel_ops.ExportOptions(endpoint=f"http://127.0.0.1:{port}"))
with trace.get_tracer("t").start_as_current_span("x"):
    pass
export, _ = listener.accept()      # the export thread is sending the span and waits for an answer
delivered = otel_ops.shutdown()
export.setblocking(False)
state = "waiting"                  # the exporter still waits for its answer: shutdown did not wait for it
try:
    while export.recv(65536):      # the request, then end of stream once the exporter gave up
        pass
    state = "abandoned"
except BlockingIOError:
    pass
spans = telemetry.queues["traces"]
print("SHUTDOWN", delivered, "EXPORT", state, "DROPPED", spans.drops.total(), "EXPORTED", spans.exported)
"""


def test_unresponsive_collector_shutdown_returns_while_the_export_still_waits():
    # An export to a collector that never answers holds the export thread for the exporter's timeout (10 s
    # by default). Shutdown must return by its own deadline instead, with the span counted as dropped.
    result = run_python(
        BLACKHOLE_SCRIPT, service_env(None, OTEL_OPS_LOG_CONSOLE="none", OTEL_METRICS_EXPORTER="none")
    )
    shutdown = _fields(result.stdout, "SHUTDOWN")
    assert shutdown[3] == "waiting", "shutdown waited until the export to the unresponsive collector gave up"
    assert shutdown[1:] == ["False", "EXPORT", "waiting", "DROPPED", "1", "EXPORTED", "0"], result.stdout


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
