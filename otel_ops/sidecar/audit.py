"""Audit log: one JSON object per line in the data dir, appended for every mutating action.

Entries carry ``time``, ``action``, ``actor`` and action-specific fields; they never carry credentials: every
field passes the instrumentation's secret scrubber before it is written (a webhook payload or a comment
holding a key, a token or a password in a URL is stored redacted).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import deque
from pathlib import Path
from typing import Any

from otel_ops.sidecar.redact import scrubbed


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
        """The newest ``limit`` matching entries, newest first; unreadable lines are skipped."""
        if not self.path.exists():
            return []
        kept: deque[dict[str, Any]] = deque(maxlen=limit)
        with self._lock, self.path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(entry, dict):
                    continue
                if action is not None and entry.get("action") != action:
                    continue
                if fingerprint is not None and entry.get("fingerprint") != fingerprint:
                    continue
                kept.append(entry)
        return list(reversed(kept))
