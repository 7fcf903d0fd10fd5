"""``otel-ops sidecar``: serve the ops sidecar (health, anomalies, alerts, backups)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds ``sidecar`` to the main application."""
