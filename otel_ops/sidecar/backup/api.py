"""HTTP API of the backup jobs, an ``APIRouter`` the sidecar app includes.

``GET /api/v1/backups`` lists snapshots, ``POST /api/v1/backups`` runs a backup, and
``POST /api/v1/backups/{snapshot_id}/verify`` reads one snapshot back and checks it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from otel_ops.sidecar.api_errors import error_responses
from otel_ops.sidecar.backup.errors import (
    BackupError,
    NoSources,
    RepositoryCorrupt,
    RepositoryNotInitialised,
    ResticNotFound,
    RestoreRefused,
    SnapshotNotFound,
    UnknownSource,
    WrongPassword,
)
from otel_ops.sidecar.backup.restic import Snapshot
from otel_ops.sidecar.backup.service import BackupService

router = APIRouter(
    prefix="/api/v1/backups", tags=["backups"], responses=error_responses(400, 404, 409, 422, 502, 503)
)


def get_backup_service() -> BackupService:
    """Dependency the app may override (``app.dependency_overrides``) to supply configured settings."""
    return BackupService()


Service = Annotated[BackupService, Depends(get_backup_service)]


class CreateRequest(BaseModel):
    sources: list[str] | None = None


def _snapshot(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "short_id": snapshot.short_id,
        "time": snapshot.time.isoformat(),
        "source": snapshot.source,
        "kind": snapshot.kind,
        "host": snapshot.host,
        "tags": list(snapshot.tags),
    }


def _http_error(exc: BackupError) -> HTTPException:
    status = 502  # restic failed (or timed out) in a way not classified below
    if isinstance(exc, UnknownSource):
        status = 400
    elif isinstance(exc, SnapshotNotFound):
        status = 404
    elif isinstance(exc, NoSources | RepositoryNotInitialised | RepositoryCorrupt | RestoreRefused):
        status = 409
    elif isinstance(exc, ResticNotFound | WrongPassword):
        status = 503
    return HTTPException(status_code=status, detail=str(exc))


@router.get("")
def list_backups(service: Service, source: str | None = None) -> dict[str, Any]:
    try:
        return {"snapshots": [_snapshot(s) for s in service.list(source)]}
    except BackupError as exc:
        raise _http_error(exc) from exc


@router.post("", responses=error_responses(413))
def create_backup(service: Service, request: CreateRequest | None = None) -> dict[str, Any]:
    """Run a backup of the given sources (all configured ones by default) and wait for it."""
    try:
        results = service.create(request.sources if request else None)
    except BackupError as exc:
        raise _http_error(exc) from exc
    return {
        "ok": all(r.ok for r in results),
        "results": [
            {
                "source": r.source,
                "ok": r.ok,
                "snapshot_id": r.snapshot_id,
                "files": r.files,
                "bytes": r.bytes,
                "duration_s": round(r.duration_s, 3),
                "error": r.error,
            }
            for r in results
        ],
    }


@router.post("/{snapshot_id}/verify")
def verify_backup(service: Service, snapshot_id: str) -> dict[str, Any]:
    """Read the repository data back and compare the snapshot with its manifest checksums."""
    try:
        result = service.verify(snapshot_id)
    except BackupError as exc:
        raise _http_error(exc) from exc
    return {"ok": result.ok, "repository_check": result.repository_check, "problems": result.problems}
