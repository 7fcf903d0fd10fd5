"""Go programs built from modules and cached outside the repository (the Collector, Jaeger, VictoriaLogs).

Shared by :mod:`otel_ops.stack.collector_build` (the Collector Builder) and :mod:`otel_ops.stack.store_build`
(the trace and log stores): where the cache is, which Go runs the build, one build per cache entry at a
time across processes, and a build step whose output goes to a log while a spinner shows its progress.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

_LOG_TAIL_LINES = 30


class BuildError(RuntimeError):
    """A program could not be built; the message says why and what to do."""


class UnknownName(BuildError):
    """A store or backend name that does not exist; the message lists the names there are."""


def cache_dir() -> Path:
    """Root of the otel-ops cache: ``$OTEL_OPS_CACHE_DIR`` or ``~/.cache/otel-ops``."""
    configured = os.environ.get("OTEL_OPS_CACHE_DIR", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "otel-ops"


def go_executable() -> str:
    go = shutil.which("go")
    if go is None:
        raise BuildError(
            "Go is not installed or not on PATH: building the Collector, Jaeger and VictoriaLogs needs Go "
            "1.25 or newer (see collector/README.md). Install Go, or put its bin directory on PATH."
        )
    return go


def go_version() -> str:
    go = go_executable()
    result = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    if result.returncode != 0 or not result.stdout.strip():
        raise BuildError(f"`go env GOVERSION` failed: {result.stderr.strip() or 'no output'}")
    return result.stdout.strip()


def executable(path: Path) -> Path | None:
    """``path`` when it is an executable file, else None."""
    return path if path.is_file() and os.access(path, os.X_OK) else None


@contextlib.contextmanager
def build_lock(directory: Path, console: Console, what: str) -> Iterator[None]:
    """One build per cache entry at a time, across processes (CLI and test sessions)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            console.print(f"Another process is building {what} in {directory}; waiting for it.")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_logged(
    command: list[str],
    log: Path,
    description: str,
    console: Console,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
    append: bool = False,
) -> None:
    """Run ``command`` with its output in ``log``, showing a spinner with the latest step.

    Raises :class:`BuildError` with the log's last lines when the command fails.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn  # only while building

    env = {**os.environ, **(extra_env or {})}
    tail: deque[str] = deque(maxlen=_LOG_TAIL_LINES)
    with (
        log.open("a" if append else "w") as log_file,
        Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[step]}"),
            console=console,
            transient=True,
        ) as progress,
    ):
        log_file.write(f"$ {' '.join(command)}\n")
        log_file.flush()
        task = progress.add_task(description, total=None, step="starting")
        try:
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
                cwd=cwd,
                bufsize=1,
            )
        except OSError as exc:
            raise BuildError(f"could not run {command[0]}: {exc}") from exc
        assert process.stdout is not None
        for line in process.stdout:
            log_file.write(line)
            log_file.flush()
            tail.append(line.rstrip())
            step = _step_of(line)
            if step:
                progress.update(task, step=step)
        returncode = process.wait()
    if returncode != 0:
        raise BuildError(
            f"{description} failed (exit code {returncode}). Last lines of the log:\n"
            + "\n".join(tail)
            + f"\nFull log: {log}"
        )


def _step_of(line: str) -> str:
    """A short progress note from one line of builder or go output."""
    line = line.strip()
    if line.startswith("go: downloading "):
        return "downloading " + line.removeprefix("go: downloading ").split(" ")[0].rsplit("/", 1)[-1]
    if line.startswith("$ "):
        return line.removeprefix("$ ").split(" ")[1] if " " in line else ""
    for marker in ("Sources created", "Getting go modules", "Compiling", "Compiled"):
        if marker in line:
            return marker.lower()
    return ""
