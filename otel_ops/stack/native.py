"""The local stack without containers: the otel-ops Collector and Prometheus as supervised processes.

The Collector runs ``collector/config/base.yaml`` plus ``prometheus.yaml`` (and ``loki.yaml`` /
``tempo.yaml`` when ``OTEL_OPS_LOKI_OTLP_ENDPOINT`` / ``OTEL_OPS_TEMPO_OTLP_ENDPOINT`` are set) and
remote-writes metrics, span metrics and exemplars to Prometheus. Logs and data live under the state directory
(``./.otel-ops`` or ``$OTEL_OPS_STATE_DIR``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from otel_ops.stack import collector_build
from otel_ops.stack.processes import ManagedProcess, StackError, Supervisor, check_ports_free

PROMETHEUS_BINARY = "prometheus"
SHARED_PROMETHEUS_CONFIG = Path(__file__).resolve().parents[2] / "prometheus" / "prometheus.yml"

# Backend fragments added when their endpoint variable is set (Loki and Tempo run elsewhere).
OPTIONAL_BACKENDS = {"loki": "OTEL_OPS_LOKI_OTLP_ENDPOINT", "tempo": "OTEL_OPS_TEMPO_OTLP_ENDPOINT"}


@dataclass(frozen=True)
class StackPorts:
    host: str = "127.0.0.1"
    otlp_grpc: int = 4317
    otlp_http: int = 4318
    health: int = 13133
    collector_metrics: int = 8888
    prometheus: int = 9090

    def named(self) -> dict[str, int]:
        return {
            "collector OTLP/gRPC": self.otlp_grpc,
            "collector OTLP/HTTP": self.otlp_http,
            "collector health check": self.health,
            "collector metrics": self.collector_metrics,
            "Prometheus": self.prometheus,
        }

    @property
    def standard(self) -> bool:
        return self == StackPorts(host=self.host)


@dataclass
class NativeStack:
    """Collector + Prometheus on ``ports``; ``start`` returns when both are ready."""

    ports: StackPorts = field(default_factory=StackPorts)
    state: Path = field(default_factory=lambda: Path(".otel-ops"))
    metrics_flush_interval: str = "15s"
    supervisor: Supervisor = field(default_factory=Supervisor)

    @property
    def prometheus_url(self) -> str:
        return f"http://{self.ports.host}:{self.ports.prometheus}"

    @property
    def otlp_http_endpoint(self) -> str:
        return f"http://{self.ports.host}:{self.ports.otlp_http}"

    def backends(self) -> list[str]:
        return ["prometheus", *(name for name, var in OPTIONAL_BACKENDS.items() if os.environ.get(var))]

    def check_ports(self) -> None:
        check_ports_free(self.ports.named(), self.ports.host)

    def start(self, collector: Path, ready_timeout: float = 30.0) -> None:
        """Start Prometheus, then the Collector; on failure stop whatever started and raise StackError."""
        self.check_ports()
        try:
            self.supervisor.start(self._prometheus_process(), ready_timeout)
            self.supervisor.start(self._collector_process(collector), ready_timeout)
        except BaseException:
            self.supervisor.stop_all()
            raise

    def stop(self) -> None:
        self.supervisor.stop_all()

    def _prometheus_process(self) -> ManagedProcess:
        binary = shutil.which(PROMETHEUS_BINARY) or shutil.which("/usr/bin/prometheus")
        if binary is None:
            raise StackError("Prometheus is not installed (apt-get install prometheus, or put it on PATH).")
        directory = self.state / "prometheus"
        directory.mkdir(parents=True, exist_ok=True)
        return ManagedProcess(
            name="prometheus",
            command=[
                binary,
                f"--config.file={self.prometheus_config(directory)}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address={self.ports.host}:{self.ports.prometheus}",
                "--web.enable-remote-write-receiver",
                "--enable-feature=exemplar-storage",
                "--storage.tsdb.retention.time=7d",
            ],
            log=self.state / "logs" / "prometheus.log",
            ready_url=f"{self.prometheus_url}/-/ready",
        )

    def prometheus_config(self, directory: Path) -> Path:
        """The shared ``prometheus/prometheus.yml`` on standard ports; else a minimal one for these ports."""
        if self.ports.standard and SHARED_PROMETHEUS_CONFIG.is_file():
            return SHARED_PROMETHEUS_CONFIG
        host = self.ports.host
        config = directory / "prometheus.yml"
        config.write_text(
            "# Written by otel-ops for a stack on non-standard ports; metrics arrive by remote write.\n"
            "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n"
            "scrape_configs:\n"
            "  - job_name: prometheus\n"
            f"    static_configs: [{{targets: ['{host}:{self.ports.prometheus}']}}]\n"
            "  - job_name: otel-collector\n"
            f"    static_configs: [{{targets: ['{host}:{self.ports.collector_metrics}']}}]\n"
        )
        return config

    def _collector_process(self, binary: Path) -> ManagedProcess:
        configs = collector_build.fragments(self.backends())
        env = {
            "OTEL_OPS_COLLECTOR_HOST": self.ports.host,
            "OTEL_OPS_OTLP_GRPC_PORT": str(self.ports.otlp_grpc),
            "OTEL_OPS_OTLP_HTTP_PORT": str(self.ports.otlp_http),
            "OTEL_OPS_HEALTH_PORT": str(self.ports.health),
            "OTEL_OPS_COLLECTOR_METRICS_PORT": str(self.ports.collector_metrics),
            "OTEL_OPS_COLLECTOR_STORAGE_DIR": str(self.state / "collector"),
            "OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": f"{self.prometheus_url}/api/v1/write",
            "OTEL_OPS_METRICS_FLUSH_INTERVAL": self.metrics_flush_interval,
        }
        return ManagedProcess(
            name="collector",
            command=[str(binary), *collector_build.config_args(configs)],
            log=self.state / "logs" / "collector.log",
            ready_url=f"http://{self.ports.host}:{self.ports.health}/",
            env=env,
            cwd=self.state,
        )


def locate_collector(console: Console) -> Path:
    """The cached Collector binary, building it first (with progress on ``console``) when needed."""
    try:
        return collector_build.binary_path() or collector_build.ensure_collector(console=console)
    except collector_build.CollectorBuildError as exc:
        raise StackError(str(exc)) from exc
