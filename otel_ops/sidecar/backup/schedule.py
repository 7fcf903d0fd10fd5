"""Scheduled backup jobs: plain functions for any scheduler, and an APScheduler set-up from the settings.

Each job function catches its errors (they are logged and show in the metrics) so a scheduler keeps running.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from otel_ops.sidecar.backup.errors import BackupError
from otel_ops.sidecar.backup.service import BackupResult, BackupService, PruneResult, RestoreResult
from otel_ops.sidecar.backup.settings import BackupSettings

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

logger = logging.getLogger(__name__)


def run_configured_backups(settings: BackupSettings | None = None) -> list[BackupResult]:
    """Back up every configured source; failures are logged and recorded in the metrics, not raised."""
    service = BackupService(settings)
    try:
        results = service.create()
    except BackupError as exc:
        logger.error("backup job failed: %s", exc)
        return []
    for result in results:
        if result.ok:
            logger.info("backup of %s stored as snapshot %s", result.source, result.snapshot_id)
        else:
            logger.error("backup of %s failed: %s", result.source, result.error)
    return results


def run_restore_drill(settings: BackupSettings | None = None) -> list[RestoreResult]:
    """Restore the latest snapshot of every source to scratch space and check it."""
    try:
        results = BackupService(settings).drill()
    except BackupError as exc:
        logger.error("restore drill failed: %s", exc)
        return []
    for result in results:
        if result.ok:
            logger.info("restore drill of %s (%s) passed", result.source, result.snapshot.short_id)
        else:
            logger.error("restore drill of %s failed: %s", result.source, "; ".join(result.problems))
    return results


def run_retention(settings: BackupSettings | None = None) -> PruneResult | None:
    """Forget snapshots beyond the configured keep counts and prune the repository."""
    try:
        result = BackupService(settings).prune()
    except BackupError as exc:
        logger.error("backup retention failed: %s", exc)
        return None
    logger.info("backup retention removed %d snapshots", len(result.remove))
    return result


def add_backup_jobs(scheduler: BaseScheduler, settings: BackupSettings | None = None) -> None:
    """Add the backup, drill and retention jobs on their cron schedules to an APScheduler scheduler."""
    from apscheduler.triggers.cron import CronTrigger

    settings = settings or BackupSettings()
    jobs = (
        ("otel-ops-backup", run_configured_backups, settings.schedule),
        ("otel-ops-backup-drill", run_restore_drill, settings.drill_schedule),
        ("otel-ops-backup-retention", run_retention, settings.prune_schedule),
    )
    for job_id, function, cron in jobs:
        scheduler.add_job(
            function,
            CronTrigger.from_crontab(cron),
            args=[settings],
            id=job_id,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
