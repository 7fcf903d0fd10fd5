"""Backups for the ops sidecar: Prometheus TSDB, SQLite, PostgreSQL and configuration files in restic.

Every snapshot holds one source and a manifest with a SHA-256 per file; restores are checked in scratch
space before anything is written to the target.
"""

from __future__ import annotations

from otel_ops.sidecar.backup.errors import (
    BackupError,
    RepositoryCorrupt,
    RepositoryNotInitialised,
    ResticNotFound,
    RestoreRefused,
    SnapshotNotFound,
    UnknownSource,
    WrongPassword,
)
from otel_ops.sidecar.backup.metrics import BACKUP_METRICS, BackupMetrics
from otel_ops.sidecar.backup.restic import Restic, Snapshot
from otel_ops.sidecar.backup.schedule import (
    add_backup_jobs,
    run_configured_backups,
    run_restore_drill,
    run_retention,
)
from otel_ops.sidecar.backup.service import (
    BackupResult,
    BackupService,
    PruneResult,
    RestoreResult,
    VerifyResult,
)
from otel_ops.sidecar.backup.settings import BackupSettings

__all__ = [
    "BACKUP_METRICS",
    "BackupError",
    "BackupMetrics",
    "BackupResult",
    "BackupService",
    "BackupSettings",
    "PruneResult",
    "RepositoryCorrupt",
    "RepositoryNotInitialised",
    "Restic",
    "ResticNotFound",
    "RestoreRefused",
    "RestoreResult",
    "Snapshot",
    "SnapshotNotFound",
    "UnknownSource",
    "VerifyResult",
    "WrongPassword",
    "add_backup_jobs",
    "run_configured_backups",
    "run_restore_drill",
    "run_retention",
]
