"""Ops sidecar memory: RSS at rest, with anomaly jobs, and under load, against the target of 100 MB.

    .venv/bin/python -m bench.sidecar [--seconds 20] [--clients 8] [--jobs 100] [--step 60]

Starts ``otel-ops sidecar`` (instrumented by otel-ops, exporting to a closed port) and measures its
resident memory after start-up, then while clients hit the health, alert, history and metrics endpoints
as fast as they can, reporting requests/s and peak RSS.

With ``--jobs N`` the sidecar runs N anomaly jobs against a real Prometheus (Debian's) and a real
Alertmanager. Each job asks Prometheus for its own series, a daily cycle with noise computed by PromQL
from ``time()``, and backfills ``--backfill-days`` of it at start-up, so every detector window is full
when RSS is read (after every job has succeeded once). Other dependencies are absent (closed ports), so
every other health check runs and fails fast; that exercises the sidecar, not its neighbours.
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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import yaml

PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
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


def noisy_daily_cycle(index: int) -> str:
    """PromQL for series ``index``: 50 +- 10 over a day, plus uniform noise in [0, 4) from a hash of time."""
    now = "vector(time())"
    hashed = f"(sin({now} * 12.9898 + {index} * 78.233) * 43758.5453)"
    return f"50 + 10 * sin(2 * pi() * ({now} % 86400) / 86400) + 4 * ({hashed} - floor({hashed}))"


@contextmanager
def server(command: list[str], ready_url: str, log: Path) -> Iterator[None]:
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{command[0]} did not start; see {log}")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(20)


@contextmanager
def job_dependencies(workdir: Path, jobs: int, step: float, backfill_days: float) -> Iterator[dict[str, str]]:
    """A real Prometheus and Alertmanager, and a jobs file of ``jobs`` jobs; the sidecar's env for them."""
    prometheus_port, alertmanager_port = free_port(), free_port()
    (workdir / "prometheus.yml").write_text("global: {scrape_interval: 15s}\n")
    (workdir / "alertmanager.yml").write_text(
        yaml.safe_dump({"route": {"receiver": "none"}, "receivers": [{"name": "none"}]})
    )
    jobs_file = workdir / "jobs.yaml"
    jobs_file.write_text(
        yaml.safe_dump(
            {
                "jobs": [
                    {
                        "name": f"series-{index}",
                        "query": noisy_daily_cycle(index),
                        "interval_seconds": step,
                        "backfill_seconds": backfill_days * 86_400,
                    }
                    for index in range(jobs)
                ]
            }
        )
    )
    prometheus = [
        PROMETHEUS,
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'prometheus'}",
        f"--web.listen-address=127.0.0.1:{prometheus_port}",
    ]
    alertmanager = [
        ALERTMANAGER,
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'alertmanager'}",
        f"--web.listen-address=127.0.0.1:{alertmanager_port}",
        "--cluster.listen-address=",
    ]
    prometheus_url = f"http://127.0.0.1:{prometheus_port}"
    alertmanager_url = f"http://127.0.0.1:{alertmanager_port}"
    with (
        server(prometheus, f"{prometheus_url}/-/ready", workdir / "prometheus.log"),
        server(alertmanager, f"{alertmanager_url}/-/ready", workdir / "alertmanager.log"),
    ):
        yield {
            "OTEL_OPS_PROMETHEUS_URL": prometheus_url,
            "OTEL_OPS_ALERTMANAGER_URL": alertmanager_url,
            "OTEL_OPS_ANOMALY_JOBS_FILE": str(jobs_file),
        }


def jobs_succeeded(url: str) -> int:
    """Jobs that have succeeded at least once; exits when one keeps failing."""
    metrics = httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).text
    succeeded = 0
    for line in metrics.splitlines():
        succeeded += line.startswith("otel_ops_anomaly_job_last_success_timestamp_seconds{")
        if line.startswith("otel_ops_anomaly_job_consecutive_failures{") and float(line.split()[-1]) >= 2:
            raise SystemExit(f"an anomaly job keeps failing: {line}")
    return succeeded


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=0, help="anomaly jobs run by the sidecar (default none)")
    parser.add_argument("--step", type=float, default=60.0, help="each job's interval and step, seconds")
    parser.add_argument("--backfill-days", type=float, default=7.0, help="history each job scores at start")
    args = parser.parse_args()

    port = free_port()
    dead = f"http://127.0.0.1:{free_port()}"
    with tempfile.TemporaryDirectory() as data, ExitStack() as stack:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update(
            OTEL_OPS_DATA_DIR=data,
            OTEL_OPS_API_TOKEN=TOKEN,
            OTEL_OPS_PROMETHEUS_URL=dead,
            OTEL_OPS_ALERTMANAGER_URL=dead,
            OTEL_OPS_COLLECTOR_HEALTH_URL=dead,
            OTEL_EXPORTER_OTLP_ENDPOINT=dead,
            OTEL_OPS_LOG_CONSOLE="text",
        )
        if args.jobs:
            workdir = Path(data) / "dependencies"
            workdir.mkdir()
            dependencies = job_dependencies(workdir, args.jobs, args.step, args.backfill_days)
            env.update(stack.enter_context(dependencies))
        cli = "from otel_ops.cli import main; main()"
        command = [sys.executable, "-c", cli, "sidecar", "--port", str(port)]
        log = Path(data) / "sidecar.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
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
            started = time.monotonic()
            try:
                while args.jobs and jobs_succeeded(url) < args.jobs:
                    if process.poll() is not None or time.monotonic() - started > 1800:
                        raise SystemExit("the anomaly jobs did not all succeed")
                    time.sleep(1)
            except SystemExit as exc:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                raise SystemExit(f"{exc}\nthe sidecar's log ends:\n{tail}") from None
            warm_up = time.monotonic() - started
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
    jobs = (
        f"{args.jobs} anomaly jobs, {args.step:g} s points, {args.backfill_days:g} days backfilled"
        f" (all scored in {warm_up:.0f} s)"
        if args.jobs
        else "no anomaly jobs"
    )
    print(
        f"""
### Sidecar memory ({jobs}; {args.clients} clients, {args.seconds} s, endpoints: {", ".join(PATHS)})
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
