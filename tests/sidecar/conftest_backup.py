"""Fixtures for the backup tests: a restic repository, a real PostgreSQL server and a real Prometheus.

Test modules import the fixtures they use from here by name.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from otel_ops.sidecar.backup import BackupMetrics, BackupService, BackupSettings
from otel_ops.sidecar.backup.restic import Restic
from tests.support.ports import free_port


def _postgres_bin() -> Path:
    """The newest installed PostgreSQL server's bin directory (Debian: /usr/lib/postgresql/<major>/bin)."""
    installed = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
    )
    return installed[-1] if installed else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _postgres_bin()
CONFIG_FILES = {
    "collector/config/base.yaml": "receivers:\n  otlp: {}\n",
    "prometheus/prometheus.yml": "global:\n  scrape_interval: 15s\n",
    "prometheus/rules/slo.yml": "groups: []\n",
    "alertmanager/alertmanager.yml": "route:\n  receiver: default\n",
}


def require(binary: str) -> str:
    found = shutil.which(binary)
    if found is None:
        pytest.skip(f"{binary} is not installed")
    return found


def write_config_tree(root: Path) -> None:
    for name, text in CONFIG_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "prometheus" / "binary.dat").write_bytes(bytes(range(256)) * 64)


def make_settings(tmp_path: Path, **overrides: Any) -> BackupSettings:
    config_root = tmp_path / "stack"
    if not config_root.exists():
        write_config_tree(config_root)
    values: dict[str, Any] = {
        "data_dir": tmp_path / "backup",
        "config_root": config_root,
        "config_dirs": ["collector", "prometheus", "alertmanager"],
        "host": "test-host",
    }
    values.update(overrides)
    return BackupSettings(**values)


@pytest.fixture(scope="session")
def template_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised, empty repository with its generated password file (restic init is slow: copy it)."""
    require("restic")
    data_dir = tmp_path_factory.mktemp("template") / "backup"
    Restic(BackupSettings(data_dir=data_dir)).init()
    return data_dir


@pytest.fixture
def new_repository(template_repository: Path) -> Callable[[BackupSettings], None]:
    """Give ``settings`` (default repository and password file locations) a fresh, empty repository."""

    def create(settings: BackupSettings) -> None:
        shutil.copytree(template_repository, settings.data_dir)

    return create


@pytest.fixture
def backup_settings(tmp_path: Path, new_repository: Callable[[BackupSettings], None]) -> BackupSettings:
    """Settings for a fresh, initialised repository under ``tmp_path`` with a generated password file."""
    settings = make_settings(tmp_path)
    new_repository(settings)
    return settings


@pytest.fixture
def service(backup_settings: BackupSettings) -> BackupService:
    return BackupService(backup_settings, metrics=BackupMetrics())


def backup_env(settings: BackupSettings) -> dict[str, str]:
    """The OTEL_OPS_BACKUP_* environment describing ``settings`` (for CLI tests)."""
    env = {
        "OTEL_OPS_BACKUP_DATA_DIR": str(settings.data_dir),
        "OTEL_OPS_BACKUP_CONFIG_ROOT": str(settings.config_root),
        "OTEL_OPS_BACKUP_CONFIG_DIRS": json.dumps(settings.config_dirs),
        "OTEL_OPS_BACKUP_HOST": settings.host,
        "OTEL_OPS_BACKUP_SQLITE": json.dumps({k: str(v) for k, v in settings.sqlite.items()}),
    }
    return env


# -- PostgreSQL --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PostgresServer:
    port: int

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server started with initdb/pg_ctl in a temporary directory on a free port (trust auth)."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL server binaries are not installed")
    base = Path(tempfile.mkdtemp(prefix="otel-ops-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
    data, port = base / "data", free_port()
    subprocess.run(
        _as_postgres(
            [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres(
            [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield PostgresServer(port)
    finally:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


# -- Prometheus --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrometheusServer:
    url: str
    data_dir: Path

    def api(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as response:
            payload = json.loads(response.read())
        assert payload["status"] == "success", payload
        return payload["data"]


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "Prometheus exited while starting"
        try:
            urllib.request.urlopen(f"{url}/-/ready", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("Prometheus did not become ready")


@pytest.fixture(scope="session")
def prometheus_server() -> Iterator[PrometheusServer]:
    """A Prometheus with the admin API scraping itself every second; yields once it holds 8 s of samples."""
    binary = require("prometheus")
    base = Path(tempfile.mkdtemp(prefix="otel-ops-prom-"))
    port = free_port()
    config = base / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        f"scrape_configs:\n  - job_name: self\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={base / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-admin-api",
    ]
    with (base / "log").open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = PrometheusServer(f"http://127.0.0.1:{port}", base / "data")
    try:
        wait_ready(server.url, process)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            result = server.api("/api/v1/query", query="count_over_time(up[1m])")
            if result["result"] and float(result["result"][0]["value"][1]) >= 8:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("Prometheus scraped too few samples")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(base, ignore_errors=True)
