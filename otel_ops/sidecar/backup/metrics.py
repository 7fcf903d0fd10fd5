"""Prometheus metrics of the backup jobs, in their own registry that the sidecar's ``/metrics`` serves."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Gauge

from otel_ops.sidecar.backup.restic import Snapshot


class BackupMetrics:
    """Gauges per source; all timestamps are Unix seconds."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._last_success: dict[str, float] = {}
        self.last_success = Gauge(
            "otel_ops_backup_last_success_timestamp_seconds",
            "Time of the last successful backup of a source.",
            ["source"],
            registry=self.registry,
        )
        self.last_failure = Gauge(
            "otel_ops_backup_last_failure_timestamp_seconds",
            "Time of the last failed backup of a source.",
            ["source"],
            registry=self.registry,
        )
        self.duration = Gauge(
            "otel_ops_backup_duration_seconds",
            "Duration of the last backup of a source.",
            ["source"],
            registry=self.registry,
        )
        self.size = Gauge(
            "otel_ops_backup_size_bytes",
            "Bytes stored by the last successful backup of a source (before deduplication).",
            ["source"],
            registry=self.registry,
        )
        self.last_verify_success = Gauge(
            "otel_ops_backup_last_verify_success_timestamp_seconds",
            "Time of the last verify that read the repository data back without errors.",
            registry=self.registry,
        )
        self.last_drill_success = Gauge(
            "otel_ops_backup_last_restore_drill_success_timestamp_seconds",
            "Time of the last restore drill that restored and checked a source's latest snapshot.",
            ["source"],
            registry=self.registry,
        )

    def record_success(self, source: str, at: float, duration: float, size: int) -> None:
        self._set_last_success(source, at)
        self.duration.labels(source=source).set(duration)
        self.size.labels(source=source).set(size)

    def record_failure(self, source: str, at: float, duration: float) -> None:
        self.last_failure.labels(source=source).set(at)
        self.duration.labels(source=source).set(duration)

    def seed_from(self, snapshots: Iterable[Snapshot]) -> None:
        """Last-success times from the repository, so they survive a sidecar restart."""
        for snapshot in snapshots:
            if snapshot.source:
                self._set_last_success(snapshot.source, snapshot.time.timestamp())

    def _set_last_success(self, source: str, at: float) -> None:
        if at >= self._last_success.get(source, 0.0):
            self._last_success[source] = at
            self.last_success.labels(source=source).set(at)


#: The process-wide metrics the jobs update and the sidecar serves.
BACKUP_METRICS = BackupMetrics()
