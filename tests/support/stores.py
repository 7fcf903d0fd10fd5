"""The real trace and log stores (Jaeger v2, VictoriaLogs) and a Collector in front of them, for tests.

Each runs exactly as ``otel-ops up`` runs it (:mod:`otel_ops.stack.components`), on free loopback ports with
its data in a test directory. Binaries are built (and cached) on first use; a failed build fails the test.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from rich.console import Console

from otel_ops.stack import collector_build, components, store_build
from otel_ops.stack.ports import COMPONENT_PORTS, StackPorts
from otel_ops.stack.processes import ManagedProcess


def free_stack_ports(*components_: str) -> StackPorts:
    """StackPorts with a free loopback port for every port of ``components_`` (all components when none)."""
    names = [attr for name in components_ or tuple(COMPONENT_PORTS) for attr in COMPONENT_PORTS[name]]
    sockets = [socket.socket() for _ in names]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        ports = {name: sock.getsockname()[1] for name, sock in zip(names, sockets, strict=True)}
    finally:
        for sock in sockets:
            sock.close()
    return replace(StackPorts(host="127.0.0.1"), **ports)


def store_binary(name: str) -> Path:
    try:
        return store_build.ensure_store(name, console=Console(stderr=True))
    except store_build.BuildError as exc:
        pytest.fail(f"building {name} failed:\n{exc}", pytrace=False)


def collector_binary() -> Path:
    try:
        return collector_build.ensure_collector()
    except collector_build.CollectorBuildError as exc:
        pytest.fail(f"building the Collector failed:\n{exc}", pytrace=False)


@dataclass
class Stores:
    """Running Jaeger, VictoriaLogs and a Collector sending them traces and logs."""

    ports: StackPorts
    state: Path
    processes: dict[str, ManagedProcess]

    @property
    def jaeger_url(self) -> str:
        return self.ports.url("jaeger")

    @property
    def victorialogs_url(self) -> str:
        return self.ports.url("victorialogs")

    @property
    def otlp_http(self) -> str:
        """The Collector's OTLP/HTTP endpoint (base URL, without ``/v1/<signal>``)."""
        return self.ports.url("collector")

    def stop(self, name: str) -> int | None:
        return self.processes[name].stop()

    def stop_all(self) -> None:
        """Stop every process, the Collector first (reverse start order)."""
        for process in reversed(list(self.processes.values())):
            process.stop()

    def start(self, name: str, timeout: float = 60.0) -> None:
        """(Re)start ``name`` on the same ports and data directory."""
        process = self._process(name)
        self.processes[name] = process
        process.start()
        process.wait_ready(timeout)

    def _process(self, name: str) -> ManagedProcess:
        if name == "jaeger":
            return components.jaeger_process(store_binary("jaeger"), self.ports, self.state, "1d")
        if name == "victorialogs":
            return components.victorialogs_process(store_binary("victorialogs"), self.ports, self.state, "1d")
        if name == "collector":
            return components.collector_process(
                collector_binary(), self.ports, self.state, "1s", ("jaeger", "victorialogs")
            )
        raise ValueError(name)


@contextmanager
def running_stores(state: Path, with_collector: bool = True) -> Iterator[Stores]:
    """Jaeger and VictoriaLogs (and the Collector in front of them) until the block ends."""
    ports = free_stack_ports("jaeger", "victorialogs", "collector", "prometheus")
    stores = Stores(ports=ports, state=state, processes={})
    names = ["jaeger", "victorialogs", *(["collector"] if with_collector else [])]
    with ExitStack() as cleanup:
        cleanup.callback(stores.stop_all)
        for name in names:
            stores.start(name)
        yield stores
