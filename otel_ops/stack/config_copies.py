"""``otel-ops init DIR``: editable copies of the stack files, for users who own their configuration.

Copies every file of the directories in :data:`otel_ops.stack.files.DIRECTORIES` from the files shipped
with otel-ops into ``DIR`` (same layout), so ``--config-dir DIR`` / ``OTEL_OPS_CONFIG_DIR=DIR`` can use
them. Existing files are never overwritten unless asked to.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from otel_ops.stack import files
from otel_ops.stack.processes import StackError

# Never copied: local secrets and caches (the wheel leaves them out too, see pyproject.toml).
_SKIPPED_DIRECTORIES = frozenset({"__pycache__", "secrets"})
_SKIPPED_FILES = frozenset({".env"})


class ExistingFiles(StackError):
    """The target already has some of the files; the message names them."""


def default_files() -> list[Path]:
    """The stack files shipped with otel-ops, relative to their root, sorted."""
    source = files.packaged_root()
    found = []
    for directory in files.DIRECTORIES:
        for parent, subdirectories, names in os.walk(source / directory):
            subdirectories[:] = sorted(d for d in subdirectories if d not in _SKIPPED_DIRECTORIES)
            for name in names:
                if name not in _SKIPPED_FILES and not name.endswith(".pyc"):
                    found.append((Path(parent) / name).relative_to(source))
    return sorted(found)


def write_copies(target: Path, force: bool = False) -> list[Path]:
    """Copy the default stack files into ``target``; return what was written (relative paths).

    Raises :class:`ExistingFiles` without writing anything when ``target`` has any of them and not ``force``.
    """
    if target.exists() and not target.is_dir():
        raise ExistingFiles(f"{target} exists and is not a directory")
    relative = default_files()
    existing = [path for path in relative if (target / path).exists()]
    if existing and not force:
        shown = ", ".join(str(path) for path in existing[:3]) + (", …" if len(existing) > 3 else "")
        raise ExistingFiles(
            f"{target} already has {len(existing)} of the {len(relative)} stack files ({shown}); nothing was "
            "written. Use --force to overwrite them, or choose another directory."
        )
    source = files.packaged_root()
    for path in relative:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / path, target / path)
    return relative
