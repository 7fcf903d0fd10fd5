"""SQLite databases, copied with the online backup API (never a raw file copy)."""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from otel_ops.sidecar.backup.errors import BackupError
from otel_ops.sidecar.backup.manifest import Manifest
from otel_ops.sidecar.backup.sources.base import Source, refuse_replacing
from otel_ops.sidecar.sqlite_files import connect_read_only


def _table_counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {
        name: connection.execute(f'SELECT count(*) FROM "{name.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
        for name in names
    }


def integrity(path: Path) -> tuple[str, dict[str, int]]:
    """``PRAGMA integrity_check`` result and row count per table of the database file at ``path``."""
    with contextlib.closing(connect_read_only(path)) as connection:
        result = "; ".join(str(row[0]) for row in connection.execute("PRAGMA integrity_check"))
        return result, _table_counts(connection)


class SqliteSource(Source):
    kind = "sqlite"

    @property
    def path(self) -> Path:
        configured = self.settings.sqlite.get(self.name.split(":", 1)[-1])
        if configured is None:
            raise BackupError(f"source {self.name}: no database path configured")
        return configured.expanduser()

    def dump(self, staging: Path) -> dict[str, Any]:
        source = self.path
        if not source.is_file():
            raise BackupError(f"source {self.name}: database {source} does not exist")
        copy = staging / source.name
        try:
            with (
                contextlib.closing(connect_read_only(source)) as live,
                contextlib.closing(sqlite3.connect(copy)) as target,
            ):
                # Count the source's rows in the read transaction the backup copies from: one snapshot.
                live.execute("BEGIN")
                source_counts = _table_counts(live)
                live.backup(target)
                live.rollback()
                target.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error as exc:
            raise BackupError(f"source {self.name}: SQLite backup of {source} failed: {exc}") from exc
        check, counts = integrity(copy)
        if check != "ok":
            raise BackupError(f"source {self.name}: the copy of {source} fails integrity_check: {check}")
        if counts != source_counts:
            raise BackupError(
                f"source {self.name}: the copy of {source} holds other row counts than the source "
                f"({counts} != {source_counts}); nothing was stored"
            )
        return {"database": str(source), "filename": source.name, "tables": counts}

    def check(self, restored: Path, manifest: Manifest, target: str | None) -> list[str]:
        path = restored / manifest.details["filename"]
        try:
            result, counts = integrity(path)
        except sqlite3.Error as exc:
            return [f"{path.name}: not a readable SQLite database: {exc}"]
        problems = [] if result == "ok" else [f"{path.name}: PRAGMA integrity_check: {result}"]
        if counts != manifest.details["tables"]:
            problems.append(f"{path.name}: row counts {counts} != backed up {manifest.details['tables']}")
        return problems

    def install(self, restored: Path, manifest: Manifest, target: str, replace: bool = False) -> str:
        """Write the database into directory ``target`` (stop its writers first); stale -wal/-shm go."""
        directory = Path(target).expanduser()
        filename = manifest.details["filename"]
        destination = directory / filename
        if not replace and destination.exists():
            differs = not filecmp.cmp(restored / filename, destination, shallow=False) or any(
                os.path.exists(f"{destination}{suffix}") for suffix in ("-wal", "-shm", "-journal")
            )
            refuse_replacing(directory, [filename] if differs else [])
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / f".{filename}.restoring"
        shutil.copyfile(restored / filename, partial)
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{destination}{suffix}")
        os.replace(partial, destination)
        return f"SQLite database {destination}"
