"""The stack's configuration files (collector, Prometheus, Alertmanager, Grafana, Loki, Tempo, compose)."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path
from typing import Any

from otel_ops.sidecar.backup.errors import BackupError
from otel_ops.sidecar.backup.manifest import Manifest
from otel_ops.sidecar.backup.sources.base import Source, refuse_replacing

_SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache")


class ConfigFilesSource(Source):
    kind = "config"

    def _paths(self) -> list[tuple[str, Path]]:
        root = self.settings.config_root.expanduser()
        paths = []
        for entry in self.settings.config_dirs:
            path = Path(entry).expanduser()
            absolute = path if path.is_absolute() else root / path
            stored = path.name if path.is_absolute() else path.as_posix()
            paths.append((stored, absolute))
        return paths

    def dump(self, staging: Path) -> dict[str, Any]:
        copied, missing = [], []
        for stored, path in self._paths():
            if path.is_dir():
                shutil.copytree(path, staging / stored, ignore=_SKIPPED, symlinks=False)
            elif path.is_file():
                (staging / stored).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, staging / stored)
            else:
                missing.append(str(path))
                continue
            copied.append(stored)
        if not copied:
            raise BackupError(f"source {self.name}: none of the configured paths exist: {', '.join(missing)}")
        return {"root": str(self.settings.config_root), "paths": copied, "missing": missing}

    def install(self, restored: Path, manifest: Manifest, target: str, replace: bool = False) -> str:
        """Copy the files into directory ``target`` (same layout as under the config root)."""
        directory = Path(target).expanduser()
        if not replace:
            refuse_replacing(
                directory,
                [
                    name
                    for name in manifest.files
                    if (directory / name).exists()
                    and not filecmp.cmp(restored / name, directory / name, shallow=False)
                ],
            )
        directory.mkdir(parents=True, exist_ok=True)
        for name in manifest.files:
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(restored / name, directory / name)
        return f"{len(manifest.files)} configuration files under {directory}"
