"""Where the stores are: flags, then environment variables, then the local stack, then standard ports.

The environment variables are the sidecar's where it has one (``OTEL_OPS_PROMETHEUS_URL``,
``OTEL_OPS_ALERTMANAGER_URL``, ``OTEL_OPS_TEMPO_URL``, ``OTEL_OPS_LOKI_URL``, ``OTEL_OPS_GRAFANA_URL``) and
``OTEL_OPS_JAEGER_URL`` / ``OTEL_OPS_VICTORIALOGS_URL`` for the native stack's stores. Without either, the
ports of a stack started by ``otel-ops up`` in the state directory (``$OTEL_OPS_STATE_DIR`` or
``./.otel-ops``) are used, and otherwise the standard ports on 127.0.0.1.

Traces are read from Tempo when a Tempo URL is given and no Jaeger URL is, from Jaeger otherwise; logs
likewise from Loki or VictoriaLogs.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from otel_ops.config._urls import url_problem
from otel_ops.explain.errors import InvalidArgument
from otel_ops.stack import pidfiles

ENV = {
    "prometheus": "OTEL_OPS_PROMETHEUS_URL",
    "alertmanager": "OTEL_OPS_ALERTMANAGER_URL",
    "jaeger": "OTEL_OPS_JAEGER_URL",
    "victorialogs": "OTEL_OPS_VICTORIALOGS_URL",
    "tempo": "OTEL_OPS_TEMPO_URL",
    "loki": "OTEL_OPS_LOKI_URL",
    "grafana": "OTEL_OPS_GRAFANA_URL",
}
FLAGS = {name: f"--{name}-url" for name in ENV}
#: The native stack's standard ports (``otel-ops up`` without port options).
STANDARD_PORTS = {"prometheus": 9090, "alertmanager": 9093, "jaeger": 16686, "victorialogs": 9428}


@dataclass(frozen=True)
class StoreUrls:
    prometheus: str
    alertmanager: str
    traces: tuple[str, str]  # ("jaeger" | "tempo", url)
    logs: tuple[str, str]  # ("victorialogs" | "loki", url)
    grafana: str | None = None

    @classmethod
    def local(
        cls,
        *,
        prometheus: str = "http://127.0.0.1:9090",
        alertmanager: str = "http://127.0.0.1:9093",
        jaeger: str = "http://127.0.0.1:16686",
        victorialogs: str = "http://127.0.0.1:9428",
        grafana: str | None = None,
    ) -> StoreUrls:
        """The native stack's stores (Jaeger, VictoriaLogs) at the given URLs."""
        return cls(prometheus, alertmanager, ("jaeger", jaeger), ("victorialogs", victorialogs), grafana)


def check_url(name: str, url: str) -> str:
    if url_problem(url) is not None:
        raise InvalidArgument(
            f"invalid {name} URL {url!r}",
            f"Give it as http://host:port, e.g. {FLAGS.get(name, name)} "
            f"http://127.0.0.1:{STANDARD_PORTS.get(name, 80)}.",
        )
    return url.strip().rstrip("/")


def stack_urls(state: Path) -> dict[str, str]:
    """API URLs of the stores a stack started by ``otel-ops up`` recorded in ``state`` (read only)."""
    found = {}
    for name in STANDARD_PORTS:  # each component's pid-file record holds its API port
        record = pidfiles.read(state, name)
        if record is None or not record.port:
            continue
        host = urllib.parse.urlparse(record.ready_url or "").hostname or "127.0.0.1"
        if host in {"0.0.0.0", "::", ""}:
            host = "127.0.0.1"
        found[name] = f"http://{host}:{record.port}"
    return found


def default_state_dir(env: Mapping[str, str]) -> Path:
    configured = env.get("OTEL_OPS_STATE_DIR", "").strip()
    return Path(configured).expanduser() if configured else Path.cwd() / ".otel-ops"


def resolve(
    flags: Mapping[str, str | None], env: Mapping[str, str] | None = None, state: Path | None = None
) -> StoreUrls:
    """Store URLs from ``flags`` (name -> URL or None), the environment and the local stack's state."""
    env = os.environ if env is None else env
    stack = stack_urls(state if state is not None else default_state_dir(env))

    def explicit(name: str) -> str | None:
        value = flags.get(name) or env.get(ENV[name], "").strip() or None
        return check_url(name, value) if value else None

    def local(name: str) -> str:
        return explicit(name) or stack.get(name) or f"http://127.0.0.1:{STANDARD_PORTS[name]}"

    tempo, loki = explicit("tempo"), explicit("loki")
    traces = ("tempo", tempo) if tempo and not explicit("jaeger") else ("jaeger", local("jaeger"))
    logs = (
        ("loki", loki) if loki and not explicit("victorialogs") else ("victorialogs", local("victorialogs"))
    )
    return StoreUrls(
        prometheus=local("prometheus"),
        alertmanager=local("alertmanager"),
        traces=traces,
        logs=logs,
        grafana=explicit("grafana"),
    )
