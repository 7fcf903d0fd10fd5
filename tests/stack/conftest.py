"""A background stack (``otel-ops up``) on free loopback ports in a temporary state directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from otel_ops.stack import collector_build
from otel_ops.stack.processes import port_in_use
from tests.support.ports import free_ports

__all__ = ["free_ports"]

PROMETHEUS = Path("/usr/bin/prometheus")
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
PORT_OPTIONS = (
    "--otlp-grpc-port",
    "--port",
    "--health-port",
    "--collector-metrics-port",
    "--prometheus-port",
    "--alertmanager-port",
    "--sidecar-port",
    "--jaeger-port",
    "--jaeger-grpc-port",
    "--jaeger-otlp-port",
    "--jaeger-health-port",
    "--victorialogs-port",
)


def collector_built() -> bool:
    try:
        return collector_build.binary_path() is not None
    except collector_build.CollectorBuildError:
        return False


needs_stack = [
    pytest.mark.skipif(not PROMETHEUS.exists(), reason="needs Debian's prometheus package"),
    pytest.mark.skipif(not ALERTMANAGER.exists(), reason="needs Debian's prometheus-alertmanager package"),
    pytest.mark.skipif(not collector_built(), reason="Collector not built: run `otel-ops collector build`"),
]


def requires_stack(test: Callable[..., None]) -> Callable[..., None]:
    """Skip ``test`` unless Prometheus, Alertmanager and the built Collector are present."""
    for mark in needs_stack:
        test = mark(test)
    return test


def cli(
    state: Path, *args: str, timeout: float = 150, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``otel-ops <args>`` with ``state`` as its state directory."""
    command = [sys.executable, "-c", "from otel_ops.cli import main; main()", *args]
    full_env = {**os.environ, "OTEL_OPS_STATE_DIR": str(state), "COLUMNS": "250", **(env or {})}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=state.parent
    )


def get_json(url: str, timeout: float = 3.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


@dataclass(frozen=True)
class Stack:
    state: Path
    ports: dict[str, int]

    @property
    def prometheus(self) -> str:
        return f"http://127.0.0.1:{self.ports['--prometheus-port']}"

    @property
    def alertmanager(self) -> str:
        return f"http://127.0.0.1:{self.ports['--alertmanager-port']}"

    @property
    def otlp_http(self) -> str:
        return f"http://127.0.0.1:{self.ports['--port']}"

    @property
    def jaeger(self) -> str:
        return f"http://127.0.0.1:{self.ports['--jaeger-port']}"

    @property
    def victorialogs(self) -> str:
        return f"http://127.0.0.1:{self.ports['--victorialogs-port']}"

    @property
    def sidecar(self) -> str:
        return f"http://127.0.0.1:{self.ports['--sidecar-port']}"

    def log_tails(self) -> str:
        logs = self.state / "logs"
        parts = []
        for log in sorted(logs.glob("*.log")) if logs.is_dir() else []:
            parts.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
        return "\n".join(parts)


def up_args(ports: dict[str, int]) -> list[str]:
    return [arg for option, port in ports.items() for arg in (option, str(port))]


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Start ``otel-ops up`` on free ports (extra CLI args allowed); ``otel-ops down`` afterwards."""
    started: list[Stack] = []

    def start(*extra: str, name: str = "state", env: dict[str, str] | None = None) -> Stack:
        ports = dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS)), strict=True))
        stack = Stack(state=tmp_path / name, ports=ports)
        started.append(stack)
        result = cli(stack.state, "up", *up_args(ports), *extra, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        return stack

    yield start
    for stack in started:
        result = cli(stack.state, "down", "--timeout", "10", timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        assert not any(port_in_use(port) for port in stack.ports.values()), stack.log_tails()
