"""How each component of the local stack is started: command, environment, log file, readiness URL.

Every component reads the shared configuration, the stack files (:mod:`otel_ops.stack.files`:
``collector/config/``, ``prometheus/prometheus.yml`` and ``rules/``, ``alertmanager/alertmanager.yml``,
``jaeger/jaeger.yaml``); what differs on this machine (listen addresses, ports, data directories, retention)
is passed by flags and
environment variables.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from otel_ops.stack import collector_build, files, store_build
from otel_ops.stack.alertmanager_config import alertmanager_config, ensure_sidecar_token
from otel_ops.stack.collector_wal import repair_remote_write_wal
from otel_ops.stack.ports import StackPorts
from otel_ops.stack.processes import ManagedProcess, StackError
from otel_ops.stack.prometheus_config import prometheus_config

ANOMALY_JOBS_FILE = "anomaly-jobs.yml"

# Backend fragments added when their endpoint variable is set (Loki and Tempo run elsewhere).
OPTIONAL_BACKENDS = {"loki": "OTEL_OPS_LOKI_OTLP_ENDPOINT", "tempo": "OTEL_OPS_TEMPO_OTLP_ENDPOINT"}
#: The local stores and the Collector fragment that sends them their signal.
STORES = {"jaeger": "jaeger", "victorialogs": "victorialogs"}
#: How long the local stores keep traces and logs unless told otherwise.
DEFAULT_RETENTION = "7d"
_RETENTION = re.compile(r"^([1-9][0-9]*)([hdw])$")
_HOURS = {"h": 1, "d": 24, "w": 24 * 7}

# Executable names (first found wins) and the Debian package that provides them.
_BINARIES = {
    "prometheus": (("prometheus", "/usr/bin/prometheus"), "prometheus"),
    "alertmanager": (
        ("prometheus-alertmanager", "alertmanager", "/usr/bin/prometheus-alertmanager"),
        "prometheus-alertmanager",
    ),
}


def find_binary(component: str) -> str:
    """The executable of ``component``; a :class:`StackError` naming the package to install if missing."""
    names, package = _BINARIES[component]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise StackError(
        f"{component} is not installed: run `sudo apt-get install {package}` (or scripts/setup.sh), "
        f"or put `{names[0]}` on PATH."
    )


def backends(stores: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Collector exporters to load: Prometheus always, the local ``stores`` that run, Loki and Tempo when
    their endpoint is set."""
    return [
        "prometheus",
        *(STORES[name] for name in stores if name in STORES),
        *(name for name, var in OPTIONAL_BACKENDS.items() if os.environ.get(var)),
    ]


def retention_hours(retention: str) -> int:
    """``7d``, ``36h`` or ``2w`` in hours; a :class:`StackError` saying the accepted forms otherwise."""
    match = _RETENTION.match(retention.strip())
    if not match:
        raise StackError(
            f"invalid retention {retention!r}: give a whole number of hours, days or weeks, e.g. 36h, 7d, 2w"
        )
    return int(match.group(1)) * _HOURS[match.group(2)]


# Durations as each program reads them, units largest first: Prometheus' (up to weeks) and the Collector's
# (Go's, up to hours).
_PROMETHEUS_DURATION = re.compile(r"(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?")
_GO_DURATION = re.compile(r"(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?")


def check_duration(value: str, option: str, go: bool = False) -> str:
    """``value`` when it is a positive duration such as 500ms, 15s or 1m30s (``go``: as the Collector reads
    it, hours at most); else a :class:`StackError` naming ``option`` and the accepted form."""
    text = value.strip()
    form = _GO_DURATION if go else _PROMETHEUS_DURATION
    if not text or not form.fullmatch(text) or not any(c in "123456789" for c in text):
        units = "ms, s, m, h" if go else "ms, s, m, h, d, w"
        raise StackError(
            f"invalid {option} {value!r}: give a duration such as 500ms, 15s, 1m or 1m30s "
            f"(units {units}, largest first)"
        )
    return text


def go_memory_limit(limit_variable: str, default_mib: int = 1024) -> dict[str, str]:
    """``GOMEMLIMIT`` at 80% of a Go component's ``memory_limiter`` hard limit (unless the user set one), so
    the Go runtime collects garbage before the limiter starts refusing data."""
    if os.environ.get("GOMEMLIMIT"):
        return {}
    configured = os.environ.get(limit_variable, "").strip()
    try:
        limit_mib = int(configured) if configured else default_mib
    except ValueError:
        raise StackError(
            f"{limit_variable}={configured!r} is not a whole number of MiB; set it to e.g. 1024 or unset it"
        ) from None
    return {"GOMEMLIMIT": f"{limit_mib * 4 // 5}MiB"}


def collector_process(
    binary: Path,
    ports: StackPorts,
    state: Path,
    metrics_flush_interval: str = "3s",
    stores: tuple[str, ...] | list[str] = (),
) -> ManagedProcess:
    """The Collector, exporting to Prometheus and to the local ``stores`` (``jaeger``, ``victorialogs``)."""
    storage = state / "collector"
    repair_remote_write_wal(storage)  # a Collector killed mid-write cannot reopen a torn WAL
    env = {
        "OTEL_OPS_COLLECTOR_HOST": ports.host,
        "OTEL_OPS_OTLP_GRPC_PORT": str(ports.otlp_grpc),
        "OTEL_OPS_OTLP_HTTP_PORT": str(ports.otlp_http),
        "OTEL_OPS_HEALTH_PORT": str(ports.health),
        "OTEL_OPS_COLLECTOR_METRICS_PORT": str(ports.collector_metrics),
        "OTEL_OPS_COLLECTOR_STORAGE_DIR": str(storage),
        "OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": f"{ports.url('prometheus')}/api/v1/write",
        "OTEL_OPS_METRICS_FLUSH_INTERVAL": metrics_flush_interval,
        "OTEL_OPS_JAEGER_OTLP_ENDPOINT": f"{ports.host}:{ports.jaeger_otlp}",
        "OTEL_OPS_VICTORIALOGS_URL": ports.url("victorialogs"),
        **go_memory_limit("OTEL_OPS_MEMORY_LIMIT_MIB"),
    }
    try:
        configs = collector_build.fragments(backends(stores))
    except collector_build.CollectorBuildError as exc:
        raise StackError(str(exc)) from None
    return ManagedProcess(
        name="collector",
        command=[str(binary), *collector_build.config_args(configs)],
        log=state / "logs" / "collector.log",
        ready_url=f"http://{ports.host}:{ports.health}/",
        env=env,
        cwd=state,
    )


def prometheus_process(
    ports: StackPorts, state: Path, evaluation_interval: str | None = None
) -> ManagedProcess:
    binary = find_binary("prometheus")
    directory = state / "prometheus"
    directory.mkdir(parents=True, exist_ok=True)
    config = prometheus_config(ports, directory, evaluation_interval)
    return ManagedProcess(
        name="prometheus",
        command=[
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address={ports.host}:{ports.prometheus}",
            "--web.enable-remote-write-receiver",
            "--enable-feature=exemplar-storage",
            f"--storage.tsdb.retention.time={os.environ.get('PROMETHEUS_RETENTION') or '15d'}",
        ],
        log=state / "logs" / "prometheus.log",
        ready_url=f"{ports.url('prometheus')}/-/ready",
    )


def jaeger_process(binary: Path, ports: StackPorts, state: Path, retention: str) -> ManagedProcess:
    """Jaeger v2 on ``jaeger/jaeger.yaml``: OTLP in, Badger under ``<state>/jaeger``, query API.

    Ready when its health check answers; the query port is what ``otel-ops status`` shows.
    """
    directory = state / "jaeger"
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        "OTEL_OPS_JAEGER_HOST": ports.host,
        "OTEL_OPS_JAEGER_OTLP_PORT": str(ports.jaeger_otlp),
        "OTEL_OPS_JAEGER_QUERY_PORT": str(ports.jaeger_query),
        "OTEL_OPS_JAEGER_QUERY_GRPC_PORT": str(ports.jaeger_query_grpc),
        "OTEL_OPS_JAEGER_HEALTH_PORT": str(ports.jaeger_health),
        "OTEL_OPS_JAEGER_STORAGE_DIR": str(directory),
        "OTEL_OPS_JAEGER_RETENTION": f"{retention_hours(retention)}h",
        **go_memory_limit("OTEL_OPS_JAEGER_MEMORY_LIMIT_MIB"),
    }
    return ManagedProcess(
        name="jaeger",
        command=[str(binary), f"--config={files.path('jaeger', 'jaeger.yaml')}"],
        log=state / "logs" / "jaeger.log",
        ready_url=f"http://{ports.host}:{ports.jaeger_health}/status",
        env=env,
        cwd=directory,
    )


def victorialogs_process(binary: Path, ports: StackPorts, state: Path, retention: str) -> ManagedProcess:
    """VictoriaLogs with its data under ``<state>/victorialogs``; ready when ``/health`` answers."""
    directory = state / "victorialogs"
    directory.mkdir(parents=True, exist_ok=True)
    return ManagedProcess(
        name="victorialogs",
        command=[
            str(binary),
            f"-storageDataPath={directory / 'data'}",
            f"-httpListenAddr={ports.host}:{ports.victorialogs}",
            f"-retentionPeriod={retention_hours(retention)}h",
            # Recent logs reach disk within a second (default 5 s), so a killed store loses less.
            "-inmemoryDataFlushInterval=1s",
        ],
        log=state / "logs" / "victorialogs.log",
        ready_url=f"{ports.url('victorialogs')}/health",
        cwd=directory,
    )


def locate_store(name: str, console: Console) -> Path:
    """The cached binary of a local store, building it first (with progress on ``console``) when needed."""
    try:
        return store_build.binary_path(name) or store_build.ensure_store(name, console=console)
    except store_build.BuildError as exc:
        raise StackError(str(exc)) from exc


def _alertmanager_dir(state: Path) -> Path:
    return state / "alertmanager"


def sidecar_token_file(state: Path) -> Path:
    """The token shared by the sidecar and Alertmanager's webhook (generated on first use)."""
    directory = _alertmanager_dir(state)
    directory.mkdir(parents=True, exist_ok=True)
    _link_secrets(directory / "secrets")
    return ensure_sidecar_token(directory)


def alertmanager_process(ports: StackPorts, state: Path) -> ManagedProcess:
    """Alertmanager on the shared configuration, derived into its working directory ``<state>/alertmanager``.

    The configuration reads ``secrets/slack_api_url``, ``secrets/smtp_password`` and
    ``secrets/sidecar_token`` relative to that directory; ``$OTEL_OPS_SECRETS_DIR`` (as for compose) is
    linked there when it is set. The sidecar token is generated when missing.
    """
    binary = find_binary("alertmanager")
    directory = _alertmanager_dir(state)
    sidecar_token_file(state)
    config = alertmanager_config(ports, directory)
    return ManagedProcess(
        name="alertmanager",
        command=[
            binary,
            f"--config.file={config}",
            f"--storage.path={directory / 'data'}",
            f"--web.listen-address={ports.host}:{ports.alertmanager}",
            "--cluster.listen-address=",  # one instance: no gossip port
        ],
        log=state / "logs" / "alertmanager.log",
        ready_url=f"{ports.url('alertmanager')}/-/ready",
        cwd=directory,
    )


def _link_secrets(secrets: Path) -> None:
    configured = os.environ.get("OTEL_OPS_SECRETS_DIR", "").strip()
    if configured:
        target = Path(configured).expanduser().resolve()
        if secrets.is_symlink() and secrets.resolve() != target:
            secrets.unlink()
        if not secrets.exists() and not secrets.is_symlink():
            secrets.symlink_to(target, target_is_directory=True)
        return
    secrets.mkdir(exist_ok=True)


def _cli_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from otel_ops.cli import main; main()", *args]


def sidecar_available(timeout: float = 30.0) -> bool:
    """True when ``otel-ops sidecar --help`` works (the sidecar is an optional component)."""
    try:
        result = subprocess.run(
            _cli_command("sidecar", "--help"), capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _stack_anomaly_jobs() -> str | None:
    jobs = files.root() / "prometheus" / ANOMALY_JOBS_FILE
    return str(jobs.resolve()) if jobs.is_file() else None


def sidecar_process(ports: StackPorts, state: Path, stores: tuple[str, ...] = ()) -> ManagedProcess:
    """The ops sidecar, pointed at this stack's components (the local ``stores`` that run included); ready
    when its ``/metrics`` answers.

    Its API token is the one Alertmanager's webhook sends (:func:`sidecar_token_file`). It runs the anomaly
    jobs of ``$OTEL_OPS_ANOMALY_JOBS_FILE`` if set, else the stack's ``prometheus/anomaly-jobs.yml`` (none
    when a configuration directory written before that file existed lacks it).
    """
    directory = state / "sidecar"
    directory.mkdir(parents=True, exist_ok=True)
    env: dict[str, str | None] = {
        "OTEL_OPS_API_TOKEN": None,
        "OTEL_OPS_API_TOKEN_FILE": str(sidecar_token_file(state).resolve()),
        "OTEL_OPS_DATA_DIR": str(directory),
        "OTEL_OPS_COLLECTOR_HEALTH_URL": f"http://{ports.host}:{ports.health}/",
        "OTEL_OPS_PROMETHEUS_URL": ports.url("prometheus"),
        "OTEL_OPS_ALERTMANAGER_URL": ports.url("alertmanager"),
        "OTEL_OPS_JAEGER_URL": ports.url("jaeger") if "jaeger" in stores else None,
        "OTEL_OPS_VICTORIALOGS_URL": ports.url("victorialogs") if "victorialogs" in stores else None,
        "OTEL_OPS_ANOMALY_JOBS_FILE": os.environ.get("OTEL_OPS_ANOMALY_JOBS_FILE") or _stack_anomaly_jobs(),
    }
    return ManagedProcess(
        name="sidecar",
        command=_cli_command("sidecar", "--host", ports.host, "--port", str(ports.sidecar)),
        log=state / "logs" / "sidecar.log",
        ready_url=f"{ports.url('sidecar')}/metrics",
        env=env,
        cwd=state,
    )
