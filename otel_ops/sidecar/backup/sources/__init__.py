"""Backup sources and how configured names map to them."""

from __future__ import annotations

from otel_ops.sidecar.backup.errors import UnknownSource
from otel_ops.sidecar.backup.settings import BackupSettings
from otel_ops.sidecar.backup.sources.base import Source
from otel_ops.sidecar.backup.sources.config_files import ConfigFilesSource
from otel_ops.sidecar.backup.sources.postgres import PostgresSource
from otel_ops.sidecar.backup.sources.prometheus import PrometheusSource
from otel_ops.sidecar.backup.sources.sqlite import SqliteSource

KINDS: dict[str, type[Source]] = {
    cls.kind: cls for cls in (ConfigFilesSource, PrometheusSource, SqliteSource, PostgresSource)
}


def configured_sources(settings: BackupSettings) -> dict[str, Source]:
    """Source name -> source: ``config``, ``prometheus``, ``sqlite:<name>``, ``postgres:<name>``."""
    sources: dict[str, Source] = {}
    if settings.config_dirs:
        sources["config"] = ConfigFilesSource("config", settings)
    if settings.prometheus_url:
        sources["prometheus"] = PrometheusSource("prometheus", settings)
    for name in settings.sqlite:
        sources[f"sqlite:{name}"] = SqliteSource(f"sqlite:{name}", settings)
    for name in settings.postgres:
        sources[f"postgres:{name}"] = PostgresSource(f"postgres:{name}", settings)
    return sources


def select_sources(settings: BackupSettings, names: list[str] | None) -> list[Source]:
    """The named sources (all configured ones when ``names`` is empty); unknown names raise."""
    sources = configured_sources(settings)
    if not names:
        return list(sources.values())
    unknown = [name for name in names if name not in sources]
    if unknown:
        known = ", ".join(sources) or "none (see OTEL_OPS_BACKUP_* settings)"
        raise UnknownSource(f"unknown backup source {', '.join(map(repr, unknown))}; configured: {known}")
    return [sources[name] for name in dict.fromkeys(names)]


def source_for(kind: str, name: str, settings: BackupSettings) -> Source:
    """The source that can check and install a snapshot of ``kind`` (configured here or not)."""
    cls = KINDS.get(kind)
    if cls is None:
        raise UnknownSource(f"snapshot of unknown kind {kind!r}")
    return cls(name, settings)


__all__ = ["KINDS", "Source", "configured_sources", "select_sources", "source_for"]
