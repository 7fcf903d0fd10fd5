"""``otel-ops init DIR``: write editable copies of the stack files (then use ``--config-dir DIR``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from otel_ops.stack.files import CONFIG_DIR_ENV


def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the files (created when missing).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")] = False,
) -> None:
    """Write editable copies of the stack's configuration: the Collector manifest and fragments,
    Prometheus config and rules, Alertmanager, Grafana, Loki, Tempo, Jaeger and compose files.

    The stack commands use them with --config-dir DIR (or OTEL_OPS_CONFIG_DIR=DIR).
    """
    from otel_ops.stack.config_copies import ExistingFiles, write_copies

    console = Console(soft_wrap=True)
    try:
        written = write_copies(directory, force=force)
    except (ExistingFiles, OSError) as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"Wrote {len(written)} files to {directory}:", highlight=False)
    for top, count in Counter(path.parts[0] for path in written).items():
        console.print(f"  {top}/  {count} file{'s' if count != 1 else ''}", highlight=False)
    console.print(
        f"Use them with `otel-ops up --config-dir {directory}` (also demo, collector, sidecar), "
        f"or export {CONFIG_DIR_ENV}={directory.resolve()}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Adds ``init`` to the main application."""
    app.command("init")(init)
