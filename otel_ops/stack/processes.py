"""Supervised local processes: start with a log file, wait until ready, stop with SIGTERM then SIGKILL.

A :class:`Supervisor` owns the processes of one stack run and stops them in reverse start order. Every
failure (a port already taken, a process exiting while starting, a readiness check timing out) raises
:class:`StackError` with a message that says which process and shows the tail of its log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LOG_TAIL_LINES = 25


class StackError(RuntimeError):
    """A stack process could not be started or died; the message says why."""


def state_dir(create: bool = True) -> Path:
    """Where stack processes keep logs and data: ``$OTEL_OPS_STATE_DIR`` or ``./.otel-ops``."""
    configured = os.environ.get("OTEL_OPS_STATE_DIR", "").strip()
    path = Path(configured).expanduser() if configured else Path.cwd() / ".otel-ops"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def bind_error(port: int, host: str = "127.0.0.1") -> str | None:
    """Why a server could not listen on ``host:port`` (taken, or an address of no interface), or None."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on ``host:port`` (or the port cannot be bound)."""
    return bind_error(port, host) is not None


def check_ports_free(ports: Mapping[str, int], host: str = "127.0.0.1") -> None:
    """Raise :class:`StackError` naming every port in ``ports`` (purpose -> port) given to more than one
    purpose, or else every one that is taken."""
    purposes: dict[int, list[str]] = {}
    for purpose, port in ports.items():
        purposes.setdefault(port, []).append(purpose)
    shared = [f"{port} ({' and '.join(names)})" for port, names in purposes.items() if len(names) > 1]
    if shared:
        raise StackError(
            f"port {', '.join(shared)} given to more than one component: choose a port for each with the "
            "--*-port options."
        )
    taken = [f"{port} ({purpose})" for purpose, port in ports.items() if port_in_use(port, host)]
    if taken:
        raise StackError(
            f"port {', '.join(taken)} already in use on {host}. Stop whatever listens there "
            "(`ss -ltnp` shows it) or choose other ports with the --*-port options."
        )


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log output)"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(no log output)"


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class ManagedProcess:
    """One supervised child process; its stdout and stderr go to ``log``."""

    name: str
    command: Sequence[str]
    log: Path
    ready_url: str | None = None
    env: Mapping[str, str | None] = field(default_factory=dict)  # None: removed from the environment
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(
                f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(self.command)}\n".encode()
            )
            out.flush()
            try:
                self.popen = subprocess.Popen(
                    list(self.command),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env={
                        name: value for name, value in {**os.environ, **self.env}.items() if value is not None
                    },
                    cwd=self.cwd,
                    start_new_session=True,  # Ctrl-C in the terminal reaches the supervisor only
                )
            except OSError as exc:
                raise StackError(f"{self.name}: cannot run {self.command[0]}: {exc.strerror}") from exc

    def failure(self, what: str) -> StackError:
        return StackError(f"{self.name} {what}. Last lines of {self.log}:\n{log_tail(self.log)}")

    def check_alive(self) -> None:
        """Raise :class:`StackError` (with the log tail) when the process has exited."""
        if self.popen is not None and self.popen.poll() is not None:
            raise self.failure(f"exited with code {self.popen.returncode}")

    def wait_ready(self, timeout: float) -> None:
        """Wait until ``ready_url`` answers 2xx; fail early when the process exits."""
        if self.ready_url is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if http_ok(self.ready_url):
                return
            time.sleep(0.2)
        self.check_alive()
        raise self.failure(f"was not ready at {self.ready_url} within {timeout:.0f}s")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit code (None if never started)."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait(timeout=5)
        return self.popen.returncode


@dataclass
class Supervisor:
    """The processes of one stack run; stops them in reverse start order, also on errors."""

    processes: list[ManagedProcess] = field(default_factory=list)

    def start(self, process: ManagedProcess, ready_timeout: float = 30.0) -> ManagedProcess:
        self.processes.append(process)
        process.start()
        process.wait_ready(ready_timeout)
        return process

    def check_alive(self) -> None:
        for process in self.processes:
            process.check_alive()

    def stop_all(self, timeout: float = 10.0) -> None:
        while self.processes:
            self.processes.pop().stop(timeout)

    @contextlib.contextmanager
    def running(self) -> Iterator[Supervisor]:
        try:
            yield self
        finally:
            self.stop_all()
