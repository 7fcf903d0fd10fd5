"""Ops sidecar memory: RSS at rest and under load, against the target of 100 MB.

    .venv/bin/python -m bench.sidecar [--seconds 20] [--clients 8]

Starts ``otel-ops sidecar`` (instrumented by otel-ops, exporting to a closed port) and measures its
resident memory after start-up, then while clients hit the health, alert, history and metrics endpoints
as fast as they can, reporting requests/s and peak RSS. Dependencies are absent (closed ports), so every
health check runs and fails fast; that exercises the sidecar, not its neighbours.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

TOKEN = "bench-token"
PATHS = ("/health/live", "/health/ready", "/health/detailed", "/metrics", "/api/v1/alerts/history")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    port = free_port()
    dead = f"http://127.0.0.1:{free_port()}"
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update(
            OTEL_OPS_DATA_DIR=data,
            OTEL_OPS_API_TOKEN=TOKEN,
            OTEL_OPS_PROMETHEUS_URL=dead,
            OTEL_OPS_ALERTMANAGER_URL=dead,
            OTEL_OPS_COLLECTOR_HEALTH_URL=dead,
            OTEL_EXPORTER_OTLP_ENDPOINT=dead,
            OTEL_OPS_LOG_CONSOLE="none",
        )
        cli = "from otel_ops.cli import main; main()"
        command = [sys.executable, "-c", cli, "sidecar", "--port", str(port)]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(url + "/health/live", timeout=1)
                    break
                except httpx.HTTPError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the sidecar did not start") from None
                    time.sleep(0.1)
            time.sleep(2)
            at_rest = rss_mb(process.pid)

            stop = time.monotonic() + args.seconds
            counts = [0] * args.clients
            errors = [0] * args.clients
            peak = at_rest

            def client(index: int) -> None:
                headers = {"Authorization": f"Bearer {TOKEN}"}
                with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
                    i = 0
                    while time.monotonic() < stop:
                        response = http.get(PATHS[i % len(PATHS)])
                        counts[index] += 1
                        errors[index] += response.status_code >= 500 and response.status_code != 503
                        i += 1

            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
            for thread in threads:
                thread.start()
            while any(t.is_alive() for t in threads):
                peak = max(peak, rss_mb(process.pid))
                time.sleep(0.2)
            after = rss_mb(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(20)

    total = sum(counts)
    print(
        f"""
### Sidecar memory ({args.clients} clients, {args.seconds} s, endpoints: {", ".join(PATHS)})
| measure | value |
| --- | ---: |
| RSS at rest | {at_rest:.1f} MB |
| RSS peak under load | {peak:.1f} MB (target <= 100 MB) |
| RSS after load | {after:.1f} MB |
| requests served | {total} ({total / args.seconds:.0f}/s), 5xx other than failing health: {sum(errors)} |
"""
    )


if __name__ == "__main__":
    main()
