"""Audit log: one JSON object per line in the data dir, appended for every mutating action.

Entries carry ``time``, ``action``, ``actor`` and action-specific fields; they never carry credentials: every
field passes the instrumentation's secret scrubber before it is written (a webhook payload or a comment
holding a key, a token or a password in a URL is stored redacted).

Reading never fails on what the file holds: a line that is not a JSON object with ``time``, ``action`` and
``actor``, or that nests deeper than :data:`MAX_ENTRY_DEPTH` levels (nothing the sidecar writes does), is
skipped with a warning naming its line number, so one damaged or foreign line cannot break the history.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import deque
from pathlib import Path
from typing import Any

from otel_ops.sidecar.json_shape import nesting_depth
from otel_ops.sidecar.redact import scrubbed

MAX_ENTRY_DEPTH = 32
_REQUIRED_TEXT = ("time", "action", "actor")

_logger = logging.getLogger("otel_ops.sidecar.audit")


def _parsed(line: str) -> dict[str, Any] | None:
    """The entry a line holds, or ``None`` when the line is not a well-formed entry."""
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or not all(isinstance(entry.get(key), str) for key in _REQUIRED_TEXT):
        return None
    if nesting_depth(entry, stop_above=MAX_ENTRY_DEPTH) > MAX_ENTRY_DEPTH:
        return None
    return entry


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, action: str, actor: str, **details: Any) -> dict[str, Any]:
        entry = scrubbed(
            {"time": dt.datetime.now(dt.UTC).isoformat(), "action": action, "actor": actor, **details}
        )
        line = json.dumps(entry, default=str, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        return entry

    def read(
        self, limit: int = 100, *, fingerprint: str | None = None, action: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` matching entries, newest first; malformed lines are skipped (logged)."""
        if not self.path.exists():
            return []
        kept: deque[dict[str, Any]] = deque(maxlen=limit)
        skipped: list[int] = []
        with self._lock, self.path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                entry = _parsed(line)
                if entry is None:
                    skipped.append(number)
                    continue
                if action is not None and entry.get("action") != action:
                    continue
                if fingerprint is not None and entry.get("fingerprint") != fingerprint:
                    continue
                kept.append(entry)
        if skipped:
            _logger.warning(
                "audit log %s: skipped %d malformed line(s) (line %s)",
                self.path,
                len(skipped),
                ", ".join(map(str, skipped[:10])) + (", ..." if len(skipped) > 10 else ""),
            )
        return list(reversed(kept))
