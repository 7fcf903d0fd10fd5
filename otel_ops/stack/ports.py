"""The listen address and ports of the local stack's components (the standard ports by default)."""

from __future__ import annotations

from dataclasses import dataclass, fields

# Port fields of each component, in start order.
COMPONENT_PORTS: dict[str, tuple[str, ...]] = {
    "alertmanager": ("alertmanager",),
    "prometheus": ("prometheus",),
    "collector": ("otlp_grpc", "otlp_http", "health", "collector_metrics"),
    "sidecar": ("sidecar",),
}

_PURPOSES = {
    "otlp_grpc": "collector OTLP/gRPC",
    "otlp_http": "collector OTLP/HTTP",
    "health": "collector health check",
    "collector_metrics": "collector metrics",
    "prometheus": "Prometheus",
    "alertmanager": "Alertmanager",
    "sidecar": "ops sidecar",
}


@dataclass(frozen=True)
class StackPorts:
    host: str = "127.0.0.1"
    otlp_grpc: int = 4317
    otlp_http: int = 4318
    health: int = 13133
    collector_metrics: int = 8888
    prometheus: int = 9090
    alertmanager: int = 9093
    sidecar: int = 8000

    def named(self, components: tuple[str, ...] = ("collector", "prometheus")) -> dict[str, int]:
        """Purpose -> port for the given components (by default those of the Collector and Prometheus)."""
        return {
            _PURPOSES[attr]: getattr(self, attr)
            for component in components
            for attr in COMPONENT_PORTS[component]
        }

    def main_port(self, component: str) -> int:
        """The port shown for ``component``: its API, or the OTLP/HTTP receiver for the Collector."""
        return self.otlp_http if component == "collector" else int(getattr(self, component))

    @property
    def standard(self) -> bool:
        """True when every port is the standard one (the address does not matter)."""
        default = StackPorts()
        return all(
            getattr(self, f.name) == getattr(default, f.name) for f in fields(self) if f.name != "host"
        )

    def url(self, component: str) -> str:
        return f"http://{self.host}:{self.main_port(component)}"
