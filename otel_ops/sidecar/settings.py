"""The sidecar's settings, declared once: environment variables ``OTEL_OPS_<NAME>``, overridden by flags.

List settings (``OTEL_OPS_SQLITE_PATHS``, ``OTEL_OPS_POSTGRES_DSNS``) take comma-separated values.  The
bearer token comes from ``OTEL_OPS_API_TOKEN`` or from the file named by ``OTEL_OPS_API_TOKEN_FILE``
(not both).  ``load_settings`` turns every validation problem into a ``SettingsError`` whose message names
the environment variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "OTEL_OPS_"
DEFAULT_DATA_DIR = Path(".otel-ops/sidecar")
DEFAULT_ALERTMANAGER_URL = "http://localhost:9093"
AUDIT_LOG_NAME = "audit.jsonl"


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class SettingsError(ValueError):
    """Invalid sidecar configuration; the message names each offending setting."""


class SidecarSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    host: str = Field("127.0.0.1", min_length=1, description="Address the sidecar listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the sidecar listens on.")
    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Audit log and state; its disk is checked.")

    collector_health_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://localhost:13133/"), description="The Collector's health check extension."
    )
    prometheus_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://localhost:9090"), description="Prometheus: checked, and queried by anomaly jobs."
    )
    alertmanager_url: AnyHttpUrl = Field(
        AnyHttpUrl(DEFAULT_ALERTMANAGER_URL), description="Alertmanager: checked, alerts raised and handled."
    )
    loki_url: AnyHttpUrl | None = Field(None, description="Checked (GET /ready) only when set.")
    tempo_url: AnyHttpUrl | None = Field(None, description="Checked (GET /ready) only when set.")
    jaeger_url: AnyHttpUrl | None = Field(
        None, description="Jaeger's query API; checked (GET /api/v3/services) only when set."
    )
    victorialogs_url: AnyHttpUrl | None = Field(None, description="Checked (GET /health) only when set.")
    grafana_url: AnyHttpUrl | None = Field(None, description="Checked (GET /api/health) only when set.")

    sqlite_paths: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="SQLite databases whose integrity is checked (comma-separated)."
    )
    postgres_dsns: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="PostgreSQL databases checked (postgresql:// URLs or key=value, comma-separated).",
    )

    disk_warn_free_percent: float = Field(
        15.0, gt=0, lt=100, description="Warn when the data dir's disk has less free space (percent)."
    )
    disk_fail_free_percent: float = Field(5.0, ge=0, lt=100, description="Fail below this free space.")
    memory_warn_percent: float = Field(90.0, gt=0, le=100, description="Warn above this system memory use.")
    memory_fail_percent: float = Field(97.0, gt=0, le=100, description="Fail above this system memory use.")
    process_memory_limit_mib: float | None = Field(None, gt=0, description="Warn above this RSS.")

    check_timeout: float = Field(2.0, gt=0, le=60, description="Seconds one health check may take.")
    check_cache_ttl: float = Field(5.0, ge=0, description="Seconds a check result is reused.")
    check_interval: float = Field(15.0, gt=0, description="Seconds between background health runs.")
    noncritical_checks: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["loki", "tempo", "jaeger", "victorialogs", "grafana", "memory"],
        description="Components whose failure only degrades the status to warn.",
    )

    api_token: SecretStr | None = Field(
        None, description="Bearer token the API requires (unset: the API is open on its address)."
    )
    api_token_file: Path | None = Field(None, description="File holding the token (instead of api_token).")
    metrics_require_auth: bool = Field(False, description="Require the token on /metrics too.")

    anomaly_jobs_file: Path | None = Field(None, description="YAML or JSON file of anomaly jobs.")

    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        le=1_073_741_824,
        description="Largest request body the API accepts, in bytes (default 1 MiB); a larger one gets 413. "
        "Alertmanager's notifications are the largest bodies: about 1 KiB per alert.",
    )

    @field_validator("sqlite_paths", "postgres_dsns", "noncritical_checks", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("postgres_dsns")
    @classmethod
    def _dsn_scheme(cls, value: list[SecretStr]) -> list[SecretStr]:
        for dsn in value:
            text = dsn.get_secret_value()
            if not text.startswith(("postgresql://", "postgres://")) and "=" not in text:
                raise ValueError("each DSN must be a postgresql:// URL or a 'key=value' connection string")
        return value

    @field_validator("api_token")
    @classmethod
    def _token_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be empty (unset it to disable authentication)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SidecarSettings:
        if self.disk_fail_free_percent >= self.disk_warn_free_percent:
            raise ValueError("OTEL_OPS_DISK_FAIL_FREE_PERCENT must be below OTEL_OPS_DISK_WARN_FREE_PERCENT")
        if self.memory_warn_percent >= self.memory_fail_percent:
            raise ValueError("OTEL_OPS_MEMORY_WARN_PERCENT must be below OTEL_OPS_MEMORY_FAIL_PERCENT")
        if self.api_token is not None and self.api_token_file is not None:
            raise ValueError("set OTEL_OPS_API_TOKEN or OTEL_OPS_API_TOKEN_FILE, not both")
        if self.api_token_file is not None:
            try:
                token = self.api_token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(
                    f"OTEL_OPS_API_TOKEN_FILE: cannot read {self.api_token_file}: {exc.strerror}"
                ) from None
            if not token:
                raise ValueError(f"OTEL_OPS_API_TOKEN_FILE: {self.api_token_file} is empty")
            self.api_token = SecretStr(token)
        if self.anomaly_jobs_file is not None and not self.anomaly_jobs_file.is_file():
            problem = "is not a regular file" if self.anomaly_jobs_file.exists() else "does not exist"
            raise ValueError(f"OTEL_OPS_ANOMALY_JOBS_FILE: {self.anomaly_jobs_file} {problem}")
        return self

    @property
    def token(self) -> str | None:
        return self.api_token.get_secret_value() if self.api_token is not None else None

    @property
    def audit_log_path(self) -> Path:
        return self.data_dir / AUDIT_LOG_NAME


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def describe_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        location = [str(part) for part in error["loc"]]
        message = str(error["msg"]).removeprefix("Value error, ")
        if location:
            lines.append(f"{env_name(location[0])}: {message}")
        else:
            lines.append(message)
    return "invalid sidecar settings:\n  " + "\n  ".join(lines)


def load_settings(**overrides: Any) -> SidecarSettings:
    """Settings from the environment; ``overrides`` (command-line flags) win. Raises ``SettingsError``."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return SidecarSettings(**given)
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None
