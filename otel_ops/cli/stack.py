"""``otel-ops up|down|status``: the native stack as supervised local processes."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds ``up``, ``down`` and ``status`` to the main application."""
