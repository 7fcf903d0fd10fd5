"""What a collector that refuses connections, or accepts them and never answers, costs an instrumented
process, against a collector that answers, measured in the same run.

    .venv/bin/python -m bench.dead_collector [--items 20000] [--rounds 5]

Each measurement is a fresh interpreter with ``otel_ops.configure()`` (console log output off), which
records ``--items`` spans with one log line each, then calls ``otel_ops.shutdown()``:

1. Recording: wall time per span + log line. The collector answering (a minimal OTLP/HTTP receiver) is
   the baseline. Target: a dead or unresponsive collector adds no latency (ratio about 1.0x or less).
2. Shutdown: wall time of ``otel_ops.shutdown()`` with what could not be sent still queued; the budget is
   ``OTEL_OPS_SHUTDOWN_TIMEOUT`` (2 s). With the unresponsive collector the export thread is waiting for an
   answer when shutdown starts (the process checks that the collector has accepted its connection).

Medians of ``--rounds`` rounds, the variants interleaved in each round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from bench.instrumentation import Receiver
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[1]
SHUTDOWN_BUDGET_S = 2.0

SCRIPT = """
import logging, socket, sys, time
import otel_ops
from opentelemetry import trace

items, endpoint = int(sys.argv[1]), sys.argv[2]
listener = None
if endpoint == "unresponsive":  # accepts connections, never answers
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    listener.settimeout(30)
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
otel_ops.configure(
    export=otel_ops.ExportOptions(endpoint=endpoint), logs=otel_ops.LogsOptions(console="none")
)
tracer = trace.get_tracer("bench")
log = logging.getLogger("bench.app")
for i in range(500):  # warm-up: code paths loaded, the export thread started
    with tracer.start_as_current_span("warm-up"):
        log.info("item %d", i)
start = time.perf_counter()
for i in range(items):
    with tracer.start_as_current_span("work"):
        log.info("item %d", i)
recorded = time.perf_counter() - start
if listener is not None:
    listener.accept()  # an export is in progress and waits for an answer
start = time.perf_counter()
delivered = otel_ops.shutdown()
print(recorded / items * 1e6, time.perf_counter() - start, delivered)
"""

VARIANTS = {
    "answering": "answering (baseline)",
    "refused": "refusing connections",
    "unresponsive": "accepting, never answering",
}


@dataclass
class Run:
    us_per_item: float
    shutdown_s: float
    delivered: bool


def run_once(items: int, endpoint: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(items), endpoint],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )
    if result.returncode != 0:
        raise SystemExit(f"the measured process failed:\n{result.stderr}")
    us, seconds, delivered = result.stdout.split()
    return Run(float(us), float(seconds), delivered == "True")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=20000, help="spans (each with a log line) per process")
    parser.add_argument("--rounds", type=int, default=5, help="processes per variant (medians are reported)")
    args = parser.parse_args()

    receiver = Receiver()
    endpoints = {
        "answering": f"http://127.0.0.1:{receiver.port}",
        "refused": f"http://127.0.0.1:{free_port()}",  # claimed, nothing listens
        "unresponsive": "unresponsive",
    }
    runs: dict[str, list[Run]] = {name: [] for name in VARIANTS}
    try:
        for _ in range(args.rounds):
            for name in VARIANTS:
                runs[name].append(run_once(args.items, endpoints[name]))
    finally:
        receiver.close()

    recording = {name: statistics.median(r.us_per_item for r in rs) for name, rs in runs.items()}
    shutdown = {name: statistics.median(r.shutdown_s for r in rs) for name, rs in runs.items()}
    worst = {name: max(r.shutdown_s for r in rs) for name, rs in runs.items()}
    delivered = {name: sum(r.delivered for r in rs) for name, rs in runs.items()}
    base_us, base_s = recording["answering"], shutdown["answering"]
    rows_recording = "\n".join(
        f"| {label} | {recording[name]:.1f} | {recording[name] / base_us:.2f}x |"
        for name, label in VARIANTS.items()
    )
    rows_shutdown = "\n".join(
        f"| {label} | {shutdown[name]:.2f} | {worst[name]:.2f} | {shutdown[name] / base_s:.1f}x | "
        f"{worst[name] / SHUTDOWN_BUDGET_S:.2f} | {delivered[name]} of {args.rounds} |"
        for name, label in VARIANTS.items()
    )
    print(
        textwrap.dedent(
            """
            ### Recording {items} spans with one log line each (median of {rounds} processes)
            | collector | us per span + log line | ratio to answering |
            | --- | ---: | ---: |
            {rows_recording}

            ### `otel_ops.shutdown()` after that (budget {budget:g} s)
            | collector | median s | max s | ratio to answering | max / budget | reported all delivered |
            | --- | ---: | ---: | ---: | ---: | ---: |
            {rows_shutdown}
            """
        ).format(
            items=args.items,
            rounds=args.rounds,
            budget=SHUTDOWN_BUDGET_S,
            rows_recording=rows_recording,
            rows_shutdown=rows_shutdown,
        )
    )


if __name__ == "__main__":
    main()
