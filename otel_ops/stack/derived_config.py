"""Configurations derived from a shared file for one stack (other ports), written beside its state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def write_derived(shared: Path, derived: dict[str, Any], directory: Path) -> Path:
    """Write ``derived`` as ``<directory>/<shared file name>``, headed by where it comes from."""
    path = directory / shared.name
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"# Derived from {shared} by otel-ops for the ports of this stack; edit that file instead.\n"
        + yaml.safe_dump(derived, sort_keys=False)
    )
    return path
