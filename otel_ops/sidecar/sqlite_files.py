"""Opening SQLite database files read-only, whatever characters their paths hold."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def read_only_uri(path: Path) -> str:
    """A ``file:`` URI that opens ``path`` read-only.

    The path is percent-encoded (``Path.as_uri``): a bare ``file:{path}`` would read ``#`` as the start of a
    fragment and ``?`` as the start of the query, silently opening (and creating) another, empty database.
    """
    return f"{Path(path).expanduser().absolute().as_uri()}?mode=ro"


def connect_read_only(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """A read-only connection to the existing database ``path`` (never creates a file)."""
    return sqlite3.connect(read_only_uri(path), uri=True, timeout=timeout)
