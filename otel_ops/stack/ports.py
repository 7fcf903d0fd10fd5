"""The listen address and ports of the local stack's components (the standard ports by default)."""

from __future__ import annotations

from dataclasses import dataclass, fields

# Port fields of each component, in start order.
COMPONENT_PORTS: dict[str, tuple[str, ...]] = {
    "alertmanager": ("alertmanager",),
    "prometheus": ("prometheus",),
    "jaeger": ("jaeger_query", "jaeger_query_grpc", "jaeger_otlp", "jaeger_health"),
    "victorialogs": ("victorialogs",),
    "collector": ("otlp_grpc", "otlp_http", "health", "collector_metrics"),
    "sidecar": ("sidecar",),
}

# The component behind each standard port in the shared configuration files' ``localhost`` addresses.
_STANDARD_TARGETS = {9090: "prometheus", 9093: "alertmanager", 8888: "collector_metrics", 8000: "sidecar"}
#: Listen addresses under which the shared files' ``localhost`` addresses are reachable.
LOCAL_ADDRESSES = frozenset({"127.0.0.1", "localhost", "0.0.0.0", "::", ""})

_PURPOSES = {
    "otlp_grpc": "collector OTLP/gRPC",
    "otlp_http": "collector OTLP/HTTP",
    "health": "collector health check",
    "collector_metrics": "collector metrics",
    "prometheus": "Prometheus",
    "alertmanager": "Alertmanager",
    "sidecar": "ops sidecar",
    "jaeger_query": "Jaeger query API",
    "jaeger_query_grpc": "Jaeger query gRPC API",
    "jaeger_otlp": "Jaeger OTLP/gRPC receiver",
    "jaeger_health": "Jaeger health check",
    "victorialogs": "VictoriaLogs",
}
# The port shown for a component whose name is not itself a port field.
_MAIN_PORTS = {"collector": "otlp_http", "jaeger": "jaeger_query"}


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
    jaeger_query: int = 16686
    jaeger_query_grpc: int = 16685
    jaeger_otlp: int = 4327  # 4317 is the Collector's
    jaeger_health: int = 13134  # 13133 is the Collector's
    victorialogs: int = 9428

    def named(self, components: tuple[str, ...] = ("collector", "prometheus")) -> dict[str, int]:
        """Purpose -> port for the given components (by default those of the Collector and Prometheus)."""
        return {
            _PURPOSES[attr]: getattr(self, attr)
            for component in components
            for attr in COMPONENT_PORTS[component]
        }

    def main_port(self, component: str) -> int:
        """The port shown for ``component``: its API, or the OTLP/HTTP receiver for the Collector."""
        return int(getattr(self, _MAIN_PORTS.get(component, component)))

    @property
    def standard(self) -> bool:
        """True when every port is the standard one (the address does not matter)."""
        default = StackPorts()
        return all(
            getattr(self, f.name) == getattr(default, f.name) for f in fields(self) if f.name != "host"
        )

    def url(self, component: str) -> str:
        return f"http://{self.host}:{self.main_port(component)}"

    def retarget(self, address: str) -> str:
        """``localhost:<standard port>`` (or ``127.0.0.1:…``) of a shared file, moved to this stack's port of
        that component; any other address is returned unchanged."""
        host, _, port = address.rpartition(":")
        if host not in {"localhost", "127.0.0.1"} or not port.isdigit() or int(port) not in _STANDARD_TARGETS:
            return address
        target_host = "localhost" if self.host in {"0.0.0.0", "::", ""} else self.host
        return f"{target_host}:{getattr(self, _STANDARD_TARGETS[int(port)])}"

    @property
    def shared_files_apply(self) -> bool:
        """True when the shared configuration files' addresses are right as they are (standard ports on
        a local address)."""
        return self.standard and self.host in LOCAL_ADDRESSES
