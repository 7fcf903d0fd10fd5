"""The backup jobs: create, list, verify, restore (checked before anything is written), drill and prune.

One lock serialises jobs in this process (restic also locks the repository against other processes).
"""

from __future__ import annotations

import builtins
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from otel_ops.sidecar.backup.errors import (
    BackupError,
    NoSources,
    RepositoryCorrupt,
    RestoreRefused,
    SnapshotNotFound,
)
from otel_ops.sidecar.backup.manifest import MANIFEST_NAME, Manifest, ManifestError
from otel_ops.sidecar.backup.metrics import BACKUP_METRICS, BackupMetrics
from otel_ops.sidecar.backup.restic import Restic, Snapshot
from otel_ops.sidecar.backup.settings import BackupSettings
from otel_ops.sidecar.backup.sources import Source, select_sources, source_for

BASE_TAG = "otel-ops"
_JOB_LOCK = threading.RLock()

#: Called with (source name, step description) as a job progresses.
Progress = Callable[[str, str], None]


def _quiet(source: str, step: str) -> None:
    return None


@dataclass
class BackupResult:
    source: str
    ok: bool
    snapshot_id: str | None = None
    files: int = 0
    bytes: int = 0
    duration_s: float = 0.0
    error: str | None = None


@dataclass
class VerifyResult:
    ok: bool
    repository_check: str
    snapshots: dict[str, list[str]] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        found = [] if self.repository_check == "ok" else [self.repository_check]
        for snapshot, problems in self.snapshots.items():
            found += [f"{snapshot}: {problem}" for problem in problems]
        return found


@dataclass
class RestoreResult:
    snapshot: Snapshot
    source: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    installed: str | None = None


@dataclass
class PruneResult:
    dry_run: bool
    keep: list[Snapshot] = field(default_factory=list)
    remove: list[Snapshot] = field(default_factory=list)


class BackupService:
    def __init__(
        self,
        settings: BackupSettings | None = None,
        metrics: BackupMetrics | None = None,
        restic: Restic | None = None,
    ) -> None:
        self.settings = settings or BackupSettings()
        self.metrics = metrics or BACKUP_METRICS
        self.restic = restic or Restic(self.settings)

    # -- create --------------------------------------------------------------------------------------------
    def create(self, names: list[str] | None = None, progress: Progress = _quiet) -> list[BackupResult]:
        """Back up the named (default: all configured) sources, one snapshot each; failures are reported
        per source and the others still run."""
        sources = select_sources(self.settings, names)
        if not sources:
            raise NoSources("no backup sources configured (see OTEL_OPS_BACKUP_* settings)")
        with _JOB_LOCK:
            self.restic.snapshots()  # fails early on a missing repository, restic or password
            return [self._create_one(source, progress) for source in sources]

    def _create_one(self, source: Source, progress: Progress) -> BackupResult:
        started = time.monotonic()
        staging = self.settings.staging_dir / source.name.replace(":", "-")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            progress(source.name, "dumping")
            details = source.dump(staging)
            manifest = Manifest.of_directory(staging, source.name, source.kind, self.settings.host, details)
            manifest.write(staging / MANIFEST_NAME)
            progress(source.name, f"storing {len(manifest.files)} files")
            at = datetime.now(UTC)
            tags = [BASE_TAG, f"source:{source.name}", f"kind:{source.kind}", f"time:{at:%Y-%m-%dT%H:%M:%SZ}"]
            snapshot_id = self.restic.backup(staging, tags)
            manifest.write(self.settings.manifest_dir / f"{snapshot_id}.json")
        except Exception as exc:
            duration = time.monotonic() - started
            self.metrics.record_failure(source.name, time.time(), duration)
            if not isinstance(exc, BackupError | OSError | ValueError):
                raise
            return BackupResult(source.name, ok=False, duration_s=duration, error=str(exc))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        size = sum(entry["size"] for entry in manifest.files.values())
        duration = time.monotonic() - started
        self.metrics.record_success(source.name, time.time(), duration, size)
        return BackupResult(source.name, True, snapshot_id, len(manifest.files), size, duration)

    # -- list ----------------------------------------------------------------------------------------------
    def list(self, source: str | None = None) -> list[Snapshot]:
        tags = [BASE_TAG] + ([f"source:{source}"] if source else [])
        snapshots = self.restic.snapshots([",".join(tags)])
        self.metrics.seed_from(snapshots)
        return snapshots

    def latest_per_source(self) -> dict[str, Snapshot]:
        latest: dict[str, Snapshot] = {}
        for snapshot in self.list():
            if snapshot.source:
                latest[snapshot.source] = snapshot
        return latest

    # -- verify --------------------------------------------------------------------------------------------
    def verify(self, snapshot_id: str | None = None, read_data_subset: str | None = None) -> VerifyResult:
        """Read the repository data back (``restic check``), then restore the snapshot (default: the latest
        of every source) to a temporary directory and compare every file with its manifest."""
        with _JOB_LOCK:
            subset = read_data_subset or self.settings.read_data_subset
            try:
                self.restic.check(read_data=True, subset=subset)
                repository = "ok"
            except RepositoryCorrupt as exc:
                repository = str(exc)
            if snapshot_id:
                targets = [self.restic.snapshot(snapshot_id)]
            else:
                targets = list(self.latest_per_source().values())
            checked = {s.short_id: self._restore_and_compare(s)[1] for s in targets}
            result = VerifyResult(repository == "ok" and not any(checked.values()), repository, checked)
            if result.ok:
                self.metrics.last_verify_success.set(time.time())
            return result

    def _restore_and_compare(
        self, snapshot: Snapshot, into: Path | None = None
    ) -> tuple[Manifest | None, builtins.list[str]]:
        """Restore ``snapshot`` (into a temporary directory unless ``into``) and list manifest mismatches."""
        directory = into or Path(tempfile.mkdtemp(prefix="otel-ops-verify-"))
        try:
            try:
                self.restic.restore(snapshot.id, directory)
            except SnapshotNotFound:
                raise
            except BackupError as exc:
                return None, [f"restic restore failed: {exc}"]
            try:
                manifest = Manifest.read(directory / MANIFEST_NAME)
            except ManifestError as exc:
                return None, [str(exc)]
            return manifest, manifest.mismatches(directory)
        finally:
            if into is None:
                shutil.rmtree(directory, ignore_errors=True)

    # -- restore -------------------------------------------------------------------------------------------
    def restore(
        self,
        snapshot_id: str,
        target: str | None,
        source: str | None = None,
        progress: Progress = _quiet,
        replace: bool = False,
    ) -> RestoreResult:
        """Restore a snapshot into a scratch directory, check it (manifest checksums, then the source's own
        checks) and only then install it at ``target``. ``target`` None checks without installing (a drill).
        Data at ``target`` that differs from the snapshot is replaced only with ``replace`` (else
        :class:`BackupError`, nothing written).

        Raises :class:`RestoreRefused` when a check fails; the target is then untouched.
        """
        with _JOB_LOCK:
            snapshot = self._resolve(snapshot_id, source)
            name = snapshot.source or "?"
            with tempfile.TemporaryDirectory(prefix="otel-ops-restore-") as scratch:
                directory = Path(scratch)
                progress(name, f"checking the repository before restoring {snapshot.short_id}")
                try:
                    self.restic.check(read_data=False)
                except RepositoryCorrupt as exc:
                    raise RestoreRefused(f"restore of {snapshot.short_id} refused: {exc}") from exc
                progress(name, f"restoring {snapshot.short_id} to a scratch directory")
                manifest, problems = self._restore_and_compare(snapshot, into=directory)
                if manifest is None or problems:
                    raise RestoreRefused(self._refusal(snapshot, problems))
                handler = source_for(manifest.kind, manifest.source, self.settings)
                progress(name, f"checking the restored {manifest.kind} data")
                problems = handler.check(directory, manifest, target)
                if problems:
                    raise RestoreRefused(self._refusal(snapshot, problems))
                installed = None
                if target is not None:
                    progress(name, f"installing to {target}")
                    try:
                        installed = handler.install(directory, manifest, target, replace)
                    except ValueError as exc:
                        raise BackupError(str(exc)) from exc
            return RestoreResult(snapshot, name, ok=True, installed=installed)

    @staticmethod
    def _refusal(snapshot: Snapshot, problems: builtins.list[str]) -> str:
        listed = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        return (
            f"restore of snapshot {snapshot.short_id} ({snapshot.source}) refused: the restored data "
            f"does not match the backup; nothing was written to the target.\n{listed}{more}"
        )

    def _resolve(self, snapshot_id: str, source: str | None) -> Snapshot:
        if snapshot_id != "latest":
            return self.restic.snapshot(snapshot_id)
        snapshots = self.list(source)
        if not snapshots:
            raise SnapshotNotFound(f"no snapshots{f' of source {source}' if source else ''} to restore")
        return snapshots[-1]

    def drill(self, progress: Progress = _quiet) -> builtins.list[RestoreResult]:
        """Restore the latest snapshot of every source to scratch space and run all restore checks."""
        results = []
        for name, snapshot in self.latest_per_source().items():
            try:
                result = self.restore(snapshot.id, target=None, progress=progress)
            except BackupError as exc:
                result = RestoreResult(snapshot, name, ok=False, problems=[str(exc)])
            if result.ok:
                self.metrics.last_drill_success.labels(source=name).set(time.time())
            results.append(result)
        return results

    # -- retention -----------------------------------------------------------------------------------------
    def prune(
        self,
        keep_daily: int | None = None,
        keep_weekly: int | None = None,
        keep_monthly: int | None = None,
        dry_run: bool = False,
    ) -> PruneResult:
        """Apply keep-daily/weekly/monthly per source (``restic forget``), then ``restic prune``."""
        keep = {
            "keep-daily": self.settings.keep_daily if keep_daily is None else keep_daily,
            "keep-weekly": self.settings.keep_weekly if keep_weekly is None else keep_weekly,
            "keep-monthly": self.settings.keep_monthly if keep_monthly is None else keep_monthly,
        }
        if not any(keep.values()):
            raise BackupError("refusing to forget every snapshot: give at least one keep count above 0")
        result = PruneResult(dry_run=dry_run)
        with _JOB_LOCK:
            sources = sorted({s.source for s in self.list() if s.source})
            for source in sources:
                for group in self.restic.forget([f"{BASE_TAG},source:{source}"], keep, dry_run):
                    result.keep += [Snapshot.from_json(item) for item in group.get("keep") or ()]
                    result.remove += [Snapshot.from_json(item) for item in group.get("remove") or ()]
            if not dry_run and result.remove:
                self.restic.prune()
                for snapshot in result.remove:
                    (self.settings.manifest_dir / f"{snapshot.short_id}.json").unlink(missing_ok=True)
        return result

    def init(self) -> Path | None:
        """Create the repository (and a password file when none is configured); returns that file."""
        return self.restic.init()
