"""``otel-ops run -- CMD``: run a Python service with otel-ops instrumentation and no code changes."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
