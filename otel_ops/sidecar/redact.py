"""Secrets out of what the sidecar shows and stores: health outputs, events and audit lines.

The same scrubber as the instrumentation's (API keys, bearer tokens, JWTs, cloud keys, passwords in URLs,
``token=``/``password=`` pairs, values under sensitive names).
"""

from __future__ import annotations

from typing import Any

from otel_ops.instrumentation import Scrubber

_SCRUBBER = Scrubber()


def scrubbed(value: Any, name: str = "") -> Any:
    """``value`` with secrets redacted, recursively; a value under a sensitive name is redacted whole."""
    if name and _SCRUBBER.sensitive_name(name) and isinstance(value, (str, int, float)):
        return _SCRUBBER.value(name, str(value))
    if isinstance(value, str):
        return _SCRUBBER.text(value)
    if isinstance(value, dict):
        return {key: scrubbed(item, str(key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrubbed(item, name) for item in value]
    return value
