"""Backup settings, declared once: environment variables ``OTEL_OPS_BACKUP_*`` with documented defaults.

Mappings and lists are given as JSON in the environment, e.g.
``OTEL_OPS_BACKUP_SQLITE='{"app": "/var/lib/app/app.db"}'`` or
``OTEL_OPS_BACKUP_POSTGRES='{"main": "postgresql://backup@db:5432/app"}'``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from otel_ops.stack import files as stack_files

#: The stack's configuration directories, relative to ``config_root``.
DEFAULT_CONFIG_DIRS: tuple[str, ...] = stack_files.DIRECTORIES


def _default_data_dir() -> Path:
    """``backup/`` in the sidecar's data dir (``$OTEL_OPS_DATA_DIR``), else in the stack's state directory
    (``$OTEL_OPS_STATE_DIR``, default ``./.otel-ops``)."""
    sidecar_data = os.environ.get("OTEL_OPS_DATA_DIR", "").strip()
    if sidecar_data:
        return Path(sidecar_data).expanduser() / "backup"
    configured = os.environ.get("OTEL_OPS_STATE_DIR", "").strip()
    state = Path(configured).expanduser() if configured else Path.cwd() / ".otel-ops"
    return state / "backup"


def _default_config_root() -> Path:
    """The stack files in use: the configuration directory (``$OTEL_OPS_CONFIG_DIR``) when one is set, else
    the files shipped with otel-ops."""
    return stack_files.root()


class BackupSettings(BaseSettings):
    """Where backups go, what they contain, how long they are kept and when they run."""

    model_config = SettingsConfigDict(env_prefix="OTEL_OPS_BACKUP_", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Local state: repository, staging.",
        json_schema_extra={"shown_default": "backup/ in OTEL_OPS_DATA_DIR, else in ./.otel-ops"},
    )
    repository: str | None = Field(
        None, description="restic repository (any restic backend); default: <data_dir>/repository."
    )
    password: SecretStr | None = Field(None, description="Repository password (wins over password_file).")
    password_file: Path | None = Field(
        None, description="File holding the repository password; default: <data_dir>/restic-password."
    )
    restic_binary: str = Field("restic", description="restic executable (name on PATH or path).")
    cache_dir: Path | None = Field(None, description="restic cache; default: <data_dir>/cache.")
    host: str = Field(
        default_factory=socket.gethostname,
        description="Host name recorded in snapshots.",
        json_schema_extra={"shown_default": "this machine's name"},
    )

    config_root: Path = Field(
        default_factory=_default_config_root,
        description="Base of relative config_dirs.",
        json_schema_extra={"shown_default": "OTEL_OPS_CONFIG_DIR, else the stack files of otel-ops"},
    )
    config_dirs: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CONFIG_DIRS),
        description="Configuration files/directories backed up as source 'config' (empty disables it).",
    )
    prometheus_url: str | None = Field(None, description="Prometheus with --web.enable-admin-api.")
    prometheus_data_dir: Path | None = Field(None, description="That Prometheus' --storage.tsdb.path.")
    prometheus_binary: str = Field("prometheus", description="Prometheus used to check restored snapshots.")
    sqlite: dict[str, Path] = Field(default_factory=dict, description="SQLite databases: name -> path.")
    postgres: dict[str, str] = Field(
        default_factory=dict, description="PostgreSQL databases: name -> libpq conninfo or URL."
    )
    postgres_bin_dir: Path | None = Field(
        None, description="Directory of pg_dump/pg_restore (default: PATH)."
    )

    keep_daily: int = Field(7, ge=0, description="Retention: daily snapshots kept per source.")
    keep_weekly: int = Field(4, ge=0, description="Retention: weekly snapshots kept per source.")
    keep_monthly: int = Field(6, ge=0, description="Retention: monthly snapshots kept per source.")
    read_data_subset: str | None = Field(
        None, description="verify reads this subset (e.g. '10%', '1/5'); default: all data."
    )
    schedule: str = Field("0 3 * * *", description="Cron expression (5 fields) for the backup job.")
    drill_schedule: str = Field("30 4 * * 0", description="Cron expression for the restore drill.")
    prune_schedule: str = Field("0 5 * * *", description="Cron expression for retention (forget + prune).")
    command_timeout_s: float = Field(3600.0, gt=0, description="Upper bound for one restic/pg command.")

    @property
    def repository_location(self) -> str:
        return self.repository or str(self.data_dir / "repository")

    @property
    def password_path(self) -> Path:
        return self.password_file or self.data_dir / "restic-password"

    @property
    def restic_cache_dir(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    @property
    def manifest_dir(self) -> Path:
        return self.data_dir / "manifests"

    def pg_tool(self, name: str) -> str:
        return str(self.postgres_bin_dir / name) if self.postgres_bin_dir else name
