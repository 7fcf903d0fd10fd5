"""What every backup source provides: dump into a staging directory, check a restore, install it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from otel_ops.sidecar.backup.manifest import Manifest
from otel_ops.sidecar.backup.settings import BackupSettings


class Source(ABC):
    """One thing that is backed up; ``name`` is unique across sources and tags its snapshots."""

    kind: ClassVar[str]
    #: What ``--target`` means when restoring this kind.
    target_help: ClassVar[str] = "a directory"

    def __init__(self, name: str, settings: BackupSettings) -> None:
        self.name = name
        self.settings = settings

    @abstractmethod
    def dump(self, staging: Path) -> dict[str, Any]:
        """Write a consistent copy into the empty directory ``staging``; return details for the manifest."""

    def check(self, restored: Path, manifest: Manifest, target: str | None) -> list[str]:
        """Problems found by checks beyond the manifest checksums (empty: the restore is good)."""
        return []

    @abstractmethod
    def install(self, restored: Path, manifest: Manifest, target: str) -> str:
        """Put checked, restored data at ``target``; return a one-line description of what was written."""


def empty_directory_target(target: str) -> Path:
    """``target`` as a directory that is missing or empty (created), so nothing existing is overwritten."""
    path = Path(target).expanduser()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ValueError(f"restore target {path} must be a missing or empty directory")
    path.mkdir(parents=True, exist_ok=True)
    return path
