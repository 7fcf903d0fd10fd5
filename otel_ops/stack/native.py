"""The Collector, Prometheus and the trace and log stores as supervised child processes of one command
(``otel-ops demo``).

The Collector runs ``collector/config/base.yaml`` plus ``prometheus.yaml``, ``jaeger.yaml`` and
``victorialogs.yaml`` (and ``loki.yaml`` / ``tempo.yaml`` when ``OTEL_OPS_LOKI_OTLP_ENDPOINT`` /
``OTEL_OPS_TEMPO_OTLP_ENDPOINT`` are set): metrics, span metrics and exemplars go to Prometheus (the shared
configuration and rules), traces to Jaeger, logs to VictoriaLogs. Logs and data live under the state
directory (``./.otel-ops`` or ``$OTEL_OPS_STATE_DIR``).
The background stack of ``otel-ops up`` is in :mod:`otel_ops.stack.background`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from otel_ops.stack import collector_build, components
from otel_ops.stack.ports import StackPorts
from otel_ops.stack.processes import StackError, Supervisor, check_ports_free

__all__ = ["NativeStack", "StackPorts", "locate_binaries", "locate_collector"]


#: Components of the demo stack, in start order.
STACK_COMPONENTS = ("prometheus", "jaeger", "victorialogs", "collector")


@dataclass
class NativeStack:
    """Prometheus, Jaeger, VictoriaLogs and the Collector on ``ports``; ``start`` returns once all are
    ready."""

    ports: StackPorts = field(default_factory=StackPorts)
    state: Path = field(default_factory=lambda: Path(".otel-ops"))
    metrics_flush_interval: str = "3s"
    retention: str = components.DEFAULT_RETENTION
    supervisor: Supervisor = field(default_factory=Supervisor)

    @property
    def prometheus_url(self) -> str:
        return self.ports.url("prometheus")

    @property
    def otlp_http_endpoint(self) -> str:
        return self.ports.url("collector")

    @property
    def jaeger_url(self) -> str:
        return self.ports.url("jaeger")

    @property
    def victorialogs_url(self) -> str:
        return self.ports.url("victorialogs")

    def check_ports(self) -> None:
        check_ports_free(self.ports.named(STACK_COMPONENTS), self.ports.host)

    def start(self, binaries: Mapping[str, Path], ready_timeout: float = 30.0) -> None:
        """Start the stores and Prometheus, then the Collector; on failure stop whatever started and raise
        StackError. ``binaries`` names the Collector's, Jaeger's and VictoriaLogs' executables."""
        self.check_ports()
        stores = ("jaeger", "victorialogs")
        try:
            self.supervisor.start(components.prometheus_process(self.ports, self.state), ready_timeout)
            self.supervisor.start(
                components.jaeger_process(binaries["jaeger"], self.ports, self.state, self.retention),
                ready_timeout,
            )
            self.supervisor.start(
                components.victorialogs_process(
                    binaries["victorialogs"], self.ports, self.state, self.retention
                ),
                ready_timeout,
            )
            self.supervisor.start(
                components.collector_process(
                    binaries["collector"], self.ports, self.state, self.metrics_flush_interval, stores
                ),
                ready_timeout,
            )
        except BaseException:
            self.supervisor.stop_all()
            raise

    def stop(self) -> None:
        self.supervisor.stop_all()


def locate_binaries(console: Console) -> dict[str, Path]:
    """The Collector's, Jaeger's and VictoriaLogs' binaries, each built first when not cached."""
    return {
        "collector": locate_collector(console),
        "jaeger": components.locate_store("jaeger", console),
        "victorialogs": components.locate_store("victorialogs", console),
    }


def locate_collector(console: Console) -> Path:
    """The cached Collector binary, building it first (with progress on ``console``) when needed."""
    try:
        return collector_build.binary_path() or collector_build.ensure_collector(console=console)
    except collector_build.CollectorBuildError as exc:
        raise StackError(str(exc)) from exc
