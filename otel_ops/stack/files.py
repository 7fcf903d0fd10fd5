"""Where the stack's configuration files are: the one place every command and component asks.

The files (``collector/``, ``prometheus/``, ``alertmanager/``, ``grafana/``, ``loki/``, ``tempo/``,
``jaeger/``, ``compose/``) ship inside the package as ``otel_ops/stack_files/``. In a checkout those entries
are links to the repository's top-level directories, so a checkout and an installed wheel read the very same
files. Users who own their configuration write copies with ``otel-ops init DIR`` and point the commands at
them with ``--config-dir DIR`` or ``OTEL_OPS_CONFIG_DIR`` (which the processes a command starts inherit).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from otel_ops.stack.processes import StackError

#: The directories of stack files, in the layout of the repository and of ``otel-ops init``.
DIRECTORIES = ("collector", "prometheus", "alertmanager", "grafana", "loki", "tempo", "jaeger", "compose")
CONFIG_DIR_ENV = "OTEL_OPS_CONFIG_DIR"


class StackFileMissing(StackError):
    """A stack file the command needs is not in the configuration directory; the message says which."""


def packaged_root() -> Path:
    """The stack files shipped with otel-ops."""
    return Path(str(resources.files("otel_ops").joinpath("stack_files")))


def configured_root() -> Path | None:
    """The user's configuration directory (``$OTEL_OPS_CONFIG_DIR``), or None to use the packaged files."""
    configured = os.environ.get(CONFIG_DIR_ENV, "").strip()
    return Path(configured).expanduser() if configured else None


def root() -> Path:
    """The directory holding ``collector/``, ``prometheus/`` … that this process uses."""
    return configured_root() or packaged_root()


def use(config_dir: Path | None) -> None:
    """Make ``config_dir`` the configuration directory of this process and of the processes it starts.

    None keeps the current choice. A directory that does not exist raises :class:`StackFileMissing`.
    """
    if config_dir is None:
        return
    directory = config_dir.expanduser()
    if not directory.is_dir():
        raise StackFileMissing(
            f"configuration directory {config_dir} does not exist: "
            f"write one with `otel-ops init {config_dir}`"
        )
    os.environ[CONFIG_DIR_ENV] = str(directory.resolve())


def path(*parts: str) -> Path:
    """``root()/parts`` (a file or directory), which must exist; else :class:`StackFileMissing` saying what
    is missing and how to get it."""
    base = root()
    candidate = base.joinpath(*parts)
    if candidate.exists():
        return candidate.resolve()
    relative = "/".join(parts)
    if configured_root() is None:
        raise StackFileMissing(
            f"{relative} is missing from the stack files shipped with otel-ops ({base}): reinstall otel-ops"
        )
    raise StackFileMissing(
        f"{relative} is missing from the configuration directory {base} (--config-dir / {CONFIG_DIR_ENV}): "
        "copy it from the default files that `otel-ops init NEW_DIR` writes, or leave the option out to use "
        "the files shipped with otel-ops"
    )
