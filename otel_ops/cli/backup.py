"""``otel-ops backup``: create, list, verify, restore and prune backups."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Back up and restore Prometheus, databases and the stack's configuration.", no_args_is_help=True
)
