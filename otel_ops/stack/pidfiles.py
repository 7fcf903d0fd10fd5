"""Pid files of the background stack: ``<state>/run/<component>.pid`` plus ``<component>.json``.

The ``.pid`` file holds the pid alone (for other tools); the ``.json`` record adds the process start time
(so a pid reused by another program is not taken for ours), the port, readiness URL and log path.
A record whose process is gone (or is a zombie) is *stale*.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path


def run_dir(state: Path) -> Path:
    return state / "run"


def process_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot; None when no such live (non-zombie) process."""
    if pid <= 0:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if not Path("/proc/self/stat").exists():  # no procfs: fall back to a signal probe
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return None
            except PermissionError:
                return 0
            return 0
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in {"Z", "X"}:
        return None
    return int(fields[19])


@dataclass(frozen=True)
class PidRecord:
    name: str
    pid: int
    start_time: int
    port: int
    ready_url: str | None
    log: str
    command: list[str]

    @property
    def alive(self) -> bool:
        """The recorded process still runs (same pid and start time)."""
        started = process_start_time(self.pid)
        return started is not None and (started == self.start_time or 0 in {started, self.start_time})

    def write(self, state: Path) -> None:
        directory = run_dir(state)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{self.name}.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(directory / f"{self.name}.json")
        (directory / f"{self.name}.pid").write_text(f"{self.pid}\n")

    def remove(self, state: Path) -> None:
        remove(state, self.name)

    def stop(self, timeout: float = 10.0) -> bool:
        """SIGTERM the process group, SIGKILL after ``timeout`` seconds; True when it had to be killed."""
        if not self.alive:
            return False
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                return False
            time.sleep(0.1)
        self._signal(signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while self.alive and time.monotonic() < deadline:
            time.sleep(0.1)
        return True

    def _signal(self, signum: signal.Signals) -> None:
        # Each component was started in its own session: its process group id is its pid.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(self.pid) == self.pid:
                os.killpg(self.pid, signum)
                return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)


def read(state: Path, name: str) -> PidRecord | None:
    """The record of ``name``; None when there is none. A bare or unreadable pid file counts as stale."""
    directory = run_dir(state)
    path = directory / f"{name}.json"
    try:
        data = json.loads(path.read_text())
        return PidRecord(**data)
    except FileNotFoundError:
        pid_file = directory / f"{name}.pid"
        if not pid_file.exists():
            return None
    except (OSError, ValueError, TypeError):
        pass
    # A pid file without a readable record: report it as stale rather than guess.
    return PidRecord(name=name, pid=0, start_time=-1, port=0, ready_url=None, log="", command=[])


def read_all(state: Path) -> list[PidRecord]:
    directory = run_dir(state)
    if not directory.is_dir():
        return []
    names = sorted({p.stem for p in directory.iterdir() if p.suffix in {".pid", ".json"}})
    return [record for name in names if (record := read(state, name)) is not None]


def remove(state: Path, name: str) -> None:
    for suffix in (".json", ".pid"):
        with contextlib.suppress(FileNotFoundError):
            (run_dir(state) / f"{name}{suffix}").unlink()
