"""Start and stop the real Collector and a real Prometheus for tests, on free loopback ports."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.ports import free_port

__all__ = ["free_port"]

PROMETHEUS = "/usr/bin/prometheus"
STACK_PROMETHEUS_CONFIG = Path(__file__).resolve().parents[2] / "prometheus" / "prometheus.yml"
READY_LINE = "Everything is ready"


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Process:
    """A child process with its output in a log file; ``stop`` sends SIGTERM, then SIGKILL."""

    name: str
    command: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=self.cwd,
            )

    def wait_until(self, url: str, timeout: float, ok: int = 200) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.popen is not None
            if self.popen.poll() is not None:
                code = self.popen.returncode
                raise AssertionError(
                    f"{self.name} exited with code {code} while starting:\n{log_tail(self.log)}"
                )
            try:
                if http_get(url)[0] == ok:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready at {url} within {timeout}s:\n{log_tail(self.log)}")

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.popen is None or self.popen.poll() is not None:
            return None if self.popen is None else self.popen.returncode
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)
            return None


@dataclass
class CollectorPorts:
    grpc: int = field(default_factory=free_port)
    http: int = field(default_factory=free_port)
    health: int = field(default_factory=free_port)
    metrics: int = field(default_factory=free_port)

    def env(self) -> dict[str, str]:
        return {
            "OTEL_OPS_COLLECTOR_HOST": "127.0.0.1",
            "OTEL_OPS_OTLP_GRPC_PORT": str(self.grpc),
            "OTEL_OPS_OTLP_HTTP_PORT": str(self.http),
            "OTEL_OPS_HEALTH_PORT": str(self.health),
            "OTEL_OPS_COLLECTOR_METRICS_PORT": str(self.metrics),
        }


def start_collector(
    binary: Path,
    configs: Sequence[Path],
    workdir: Path,
    env: dict[str, str] | None = None,
    ports: CollectorPorts | None = None,
    timeout: float = 30.0,
) -> tuple[Process, CollectorPorts]:
    """Run the Collector with ``configs`` merged, wait until its health check says ready."""
    ports = ports or CollectorPorts()
    workdir.mkdir(parents=True, exist_ok=True)
    process = Process(
        name="collector",
        command=[str(binary), *(f"--config={path}" for path in configs)],
        log=workdir / "collector.log",
        env={"OTEL_OPS_COLLECTOR_STORAGE_DIR": str(workdir / "storage"), **ports.env(), **(env or {})},
        cwd=workdir,
    )
    process.start()
    try:
        process.wait_until(f"http://127.0.0.1:{ports.health}/", timeout)
        # The health check answers while the last pipelines start; the Collector handles SIGTERM (a clean
        # shutdown, exit 0) only once it has logged that everything is ready.
        deadline = time.monotonic() + timeout
        while READY_LINE not in process.log.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise AssertionError(f"collector never logged {READY_LINE!r}:\n{log_tail(process.log)}")
            time.sleep(0.05)
    except BaseException:
        process.stop()
        raise
    return process, ports


@dataclass
class Prometheus:
    process: Process
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def remote_write_url(self) -> str:
        return f"{self.url}/api/v1/write"

    def api(self, path: str, **params: Any) -> Any:
        status, body = http_get(f"{self.url}{path}?{urllib.parse.urlencode(params)}", timeout=5)
        payload = json.loads(body)
        assert status == 200 and payload["status"] == "success", f"{path} {params}: {status} {payload}"
        return payload["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        return list(self.api("/api/v1/query", query=promql)["result"])

    def exemplars(self, promql: str, window_s: float = 600) -> list[dict[str, Any]]:
        now = time.time()
        return list(self.api("/api/v1/query_exemplars", query=promql, start=now - window_s, end=now + 60))

    def metric_names(self) -> list[str]:
        return list(self.api("/api/v1/label/__name__/values"))

    def remote_write_answers(self) -> dict[str, float]:
        """Remote-write requests Prometheus has answered so far, by HTTP status code (its own metrics)."""
        _, body = http_get(f"{self.url}/metrics", timeout=5)
        pattern = re.compile(
            r'^prometheus_http_requests_total\{code="(\d+)",handler="/api/v1/write"\} (\S+)$'
        )
        return {m[1]: float(m[2]) for line in body.decode().splitlines() if (m := pattern.match(line))}


def start_prometheus(
    workdir: Path, scrape_targets: Sequence[str] = (), port: int | None = None, timeout: float = 30.0
) -> Prometheus:
    """Debian's Prometheus with the remote-write receiver and exemplar storage enabled, and the storage
    settings of the stack's ``prometheus/prometheus.yml`` (its out-of-order window)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config = workdir / "prometheus.yml"
    settings: dict[str, Any] = {
        "global": {"scrape_interval": "15s"},
        "storage": yaml.safe_load(STACK_PROMETHEUS_CONFIG.read_text())["storage"],
    }
    if scrape_targets:
        settings["scrape_configs"] = [
            {
                "job_name": "otel-collector",
                "scrape_interval": "2s",
                "static_configs": [{"targets": list(scrape_targets)}],
            }
        ]
    config.write_text(yaml.safe_dump(settings))
    process = Process(
        name="prometheus",
        command=[
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-remote-write-receiver",
            "--enable-feature=exemplar-storage",
        ],
        log=workdir / "prometheus.log",
    )
    process.start()
    try:
        process.wait_until(f"http://127.0.0.1:{port}/-/ready", timeout)
    except BaseException:
        process.stop()
        raise
    return Prometheus(process=process, port=port)


def wait_for(predicate: Any, timeout: float, message: str, interval: float = 0.5) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``message`` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} (not within {timeout:.0f}s; last result: {last!r})")
