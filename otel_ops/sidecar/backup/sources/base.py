"""What every backup source provides: dump into a staging directory, check a restore, install it."""

from __future__ import annotations

import shutil
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
    def install(self, restored: Path, manifest: Manifest, target: str, replace: bool = False) -> str:
        """Put checked, restored data at ``target``; return a one-line description of what was written.

        Data at ``target`` that differs from the snapshot is replaced only when ``replace``; otherwise
        :class:`ValueError` names it and nothing is written."""


def refuse_replacing(target: object, differing: list[str]) -> None:
    """Raise :class:`ValueError` when ``differing`` (what at ``target`` the restore would replace) is not
    empty."""
    if not differing:
        return
    shown = ", ".join(differing[:5]) + (f" and {len(differing) - 5} more" if len(differing) > 5 else "")
    raise ValueError(
        f"restore target {target} holds data that differs from the snapshot ({shown}); nothing was "
        "written. Restore into another target, or pass --force to replace it."
    )


def empty_directory_target(target: str, replace: bool = False) -> Path:
    """``target`` as a directory that is missing or empty (created), so nothing existing is overwritten;
    with ``replace``, an existing directory is emptied first."""
    path = Path(target).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"restore target {path} must be a directory")
    if path.exists() and any(path.iterdir()):
        if not replace:
            raise ValueError(
                f"restore target {path} must be a missing or empty directory; nothing was written. "
                "Restore into another directory, or pass --force to replace what it holds."
            )
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
