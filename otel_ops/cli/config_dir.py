"""``--config-dir DIR`` (or ``OTEL_OPS_CONFIG_DIR``) for the commands that read the stack files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from otel_ops.stack import files

ConfigDirOption = Annotated[
    Path | None,
    typer.Option(
        "--config-dir",
        envvar=files.CONFIG_DIR_ENV,
        show_envvar=True,
        help="Your copies of the stack files (written by `otel-ops init DIR`); "
        "default: the files shipped with otel-ops.",
    ),
]


def use_config_dir(config_dir: Path | None) -> None:
    """Read the stack files from ``config_dir`` in this command and the processes it starts."""
    try:
        files.use(config_dir)
    except files.StackFileMissing as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
