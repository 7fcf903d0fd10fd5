"""``otel-ops alerts``: list, acknowledge and resolve alerts in Alertmanager."""

from __future__ import annotations

import typer

app = typer.Typer(help="List, acknowledge and resolve alerts (through Alertmanager).", no_args_is_help=True)
