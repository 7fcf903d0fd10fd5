"""The background stack of ``otel-ops up|down|status``: components that outlive the command.

``up`` starts each component in its own session (so it survives the terminal and the command exiting),
waits until it is ready, and records it in a pid file under ``<state>/run/``; ``down`` stops them in
reverse start order (SIGTERM, then SIGKILL after a timeout); ``status`` reads the records and probes
each component's readiness URL. Records whose process is gone are stale: ``up`` and ``down`` remove them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from otel_ops.stack import components, pidfiles
from otel_ops.stack.components import DEFAULT_RETENTION, STORES
from otel_ops.stack.native import locate_collector
from otel_ops.stack.pidfiles import PidRecord
from otel_ops.stack.ports import StackPorts
from otel_ops.stack.processes import ManagedProcess, StackError, check_ports_free, http_ok

# Start order; stopped in reverse. The stores start before the Collector that sends them data.
COMPONENTS = ("alertmanager", "prometheus", "jaeger", "victorialogs", "collector", "sidecar")


@dataclass(frozen=True)
class UpOptions:
    ports: StackPorts
    state: Path
    components: tuple[str, ...] = COMPONENTS
    metrics_flush_interval: str = "3s"
    evaluation_interval: str | None = None
    ready_timeout: float = 60.0
    retention: str = DEFAULT_RETENTION

    @property
    def stores(self) -> tuple[str, ...]:
        """The local trace and log stores among the components (the Collector sends them data)."""
        return tuple(name for name in self.components if name in STORES)


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    state: str  # running | stale | stopped
    pid: int | None
    port: int | None
    ready: bool
    log: Path


def _ordered(names: list[str] | tuple[str, ...]) -> list[str]:
    return sorted(names, key=lambda n: COMPONENTS.index(n) if n in COMPONENTS else len(COMPONENTS))


def _process(name: str, options: UpOptions, binary: Callable[[str], Path]) -> ManagedProcess:
    ports, state = options.ports, options.state
    if name == "collector":
        return components.collector_process(
            binary(name), ports, state, options.metrics_flush_interval, options.stores
        )
    if name == "jaeger":
        return components.jaeger_process(binary(name), ports, state, options.retention)
    if name == "victorialogs":
        return components.victorialogs_process(binary(name), ports, state, options.retention)
    if name == "prometheus":
        return components.prometheus_process(ports, state, options.evaluation_interval)
    if name == "alertmanager":
        return components.alertmanager_process(ports, state)
    if name == "sidecar":
        return components.sidecar_process(ports, state, options.stores)
    raise StackError(f"unknown component {name!r}: choose from {', '.join(COMPONENTS)}")


def _locate(program: str, console: Console) -> Path:
    """The binary of the Collector or a local store, built (and cached) first when needed."""
    return locate_collector(console) if program == "collector" else components.locate_store(program, console)


def _record(process: ManagedProcess, port: int) -> PidRecord:
    assert process.popen is not None
    pid = process.popen.pid
    return PidRecord(
        name=process.name,
        pid=pid,
        start_time=pidfiles.process_start_time(pid) or 0,
        port=port,
        ready_url=process.ready_url,
        log=str(process.log),
        command=[str(part) for part in process.command],
    )


def _clear_stale(state: Path, console: Console) -> set[str]:
    """Remove stale records (telling so); return the names of components that are running."""
    running = set()
    for record in pidfiles.read_all(state):
        if record.alive:
            running.add(record.name)
        else:
            console.print(
                f"[yellow]removed stale pid file of {record.name}[/] (pid {record.pid or '?'} is not running)"
            )
            record.remove(state)
    return running


def up(options: UpOptions, console: Console) -> list[PidRecord]:
    """Start the components not running yet; return the records of those started.

    On any failure the components started by this call are stopped again and :class:`StackError` is
    raised (a port taken, a missing program, a process that died while starting, with its log tail).
    """
    state = options.state
    running = _clear_stale(state, console)
    for name in _ordered([n for n in options.components if n in running]):
        record = pidfiles.read(state, name)
        console.print(f"{name}: already running (pid {record.pid if record else '?'})")
    wanted = _ordered([n for n in options.components if n not in running])
    check_ports_free(options.ports.named(tuple(wanted)), options.ports.host)
    # Resolve every program first: a missing one fails before anything starts.
    processes = [_process(name, options, lambda program: _locate(program, console)) for name in wanted]
    started: list[tuple[ManagedProcess, PidRecord]] = []
    try:
        for process in processes:
            port = options.ports.main_port(process.name)
            with console.status(f"starting {process.name} on {options.ports.host}:{port}…"):
                process.start()
                record = _record(process, port)
                record.write(state)
                started.append((process, record))
                process.wait_ready(options.ready_timeout)
            console.print(f"[green]✓[/] {process.name} ready (pid {record.pid}, port {port})")
    except BaseException:
        for process, record in reversed(started):
            process.stop()
            record.remove(state)
        raise
    return [record for _, record in started]


def down(state: Path, console: Console, timeout: float = 10.0) -> list[str]:
    """Stop every recorded component in reverse start order; return the names stopped."""
    stopped = []
    records = {record.name: record for record in pidfiles.read_all(state)}
    for name in reversed(_ordered(list(records))):
        record = records[name]
        if not record.alive:
            console.print(f"[yellow]{name}: not running[/] (removed stale pid file)")
            record.remove(state)
            continue
        begin = time.monotonic()
        killed = record.stop(timeout)
        record.remove(state)
        how = f"killed after {timeout:g}s" if killed else f"stopped in {time.monotonic() - begin:.1f}s"
        console.print(f"{name}: {how} (pid {record.pid})")
        stopped.append(name)
    return stopped


def status(state: Path) -> list[ComponentStatus]:
    """Every known component (and any other recorded one), running, stale or stopped."""
    records = {record.name: record for record in pidfiles.read_all(state)}
    result = []
    for name in _ordered(list({*COMPONENTS, *records})):
        record = records.get(name)
        log = Path(record.log) if record and record.log else state / "logs" / f"{name}.log"
        if record is None:
            result.append(ComponentStatus(name, "stopped", None, None, False, log))
            continue
        alive = record.alive
        ready = alive and (record.ready_url is None or http_ok(record.ready_url))
        state_name = "running" if alive else "stale"
        result.append(ComponentStatus(name, state_name, record.pid or None, record.port, ready, log))
    return result
