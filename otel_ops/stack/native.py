"""The Collector and Prometheus as supervised child processes of one command (``otel-ops demo``).

The Collector runs ``collector/config/base.yaml`` plus ``prometheus.yaml`` (and ``loki.yaml`` /
``tempo.yaml`` when ``OTEL_OPS_LOKI_OTLP_ENDPOINT`` / ``OTEL_OPS_TEMPO_OTLP_ENDPOINT`` are set) and
remote-writes metrics, span metrics and exemplars to Prometheus, which runs the shared configuration and
rules. Logs and data live under the state directory (``./.otel-ops`` or ``$OTEL_OPS_STATE_DIR``).
The background stack of ``otel-ops up`` is in :mod:`otel_ops.stack.background`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from otel_ops.stack import collector_build, components
from otel_ops.stack.ports import StackPorts
from otel_ops.stack.processes import StackError, Supervisor, check_ports_free

__all__ = ["NativeStack", "StackPorts", "locate_collector"]


@dataclass
class NativeStack:
    """Collector + Prometheus on ``ports``; ``start`` returns when both are ready."""

    ports: StackPorts = field(default_factory=StackPorts)
    state: Path = field(default_factory=lambda: Path(".otel-ops"))
    metrics_flush_interval: str = "3s"
    supervisor: Supervisor = field(default_factory=Supervisor)

    @property
    def prometheus_url(self) -> str:
        return self.ports.url("prometheus")

    @property
    def otlp_http_endpoint(self) -> str:
        return self.ports.url("collector")

    def check_ports(self) -> None:
        check_ports_free(self.ports.named(("collector", "prometheus")), self.ports.host)

    def start(self, collector: Path, ready_timeout: float = 30.0) -> None:
        """Start Prometheus, then the Collector; on failure stop whatever started and raise StackError."""
        self.check_ports()
        try:
            self.supervisor.start(components.prometheus_process(self.ports, self.state), ready_timeout)
            self.supervisor.start(
                components.collector_process(collector, self.ports, self.state, self.metrics_flush_interval),
                ready_timeout,
            )
        except BaseException:
            self.supervisor.stop_all()
            raise

    def stop(self) -> None:
        self.supervisor.stop_all()


def locate_collector(console: Console) -> Path:
    """The cached Collector binary, building it first (with progress on ``console``) when needed."""
    try:
        return collector_build.binary_path() or collector_build.ensure_collector(console=console)
    except collector_build.CollectorBuildError as exc:
        raise StackError(str(exc)) from exc
