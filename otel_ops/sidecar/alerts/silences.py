"""An alert's acknowledgement in Alertmanager: an active silence whose matchers are exactly its labels.

Several acknowledgers (API requests, the CLI, another sidecar) can race to create one.  Whoever created
or changed a silence then settles the race: of the active exact silences, the one Alertmanager started
first (then the smallest id) stays and the others are expired, so every racer keeps the same one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from otel_ops.sidecar.alerts.client import AlertmanagerClient, AlertmanagerError


def exact_matchers(labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"name": name, "value": value, "isRegex": False, "isEqual": True}
        for name, value in sorted(labels.items())
    ]


def is_exact_silence(silence: dict[str, Any], labels: dict[str, str]) -> bool:
    matchers = silence.get("matchers") or []
    wanted = {(m["name"], m["value"]) for m in exact_matchers(labels)}
    got = {
        (m.get("name"), m.get("value")) for m in matchers if not m.get("isRegex") and m.get("isEqual", True)
    }
    return len(matchers) == len(labels) and got == wanted


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def label_filters(labels: dict[str, str]) -> list[str]:
    """Alertmanager ``filter`` matchers selecting the silences that mention each of the labels."""
    return [f"{name}={_quoted(value)}" for name, value in sorted(labels.items())]


def timestamp(text: str) -> dt.datetime:
    """An Alertmanager time (RFC 3339, ``Z`` or an offset) as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def _state(silence: dict[str, Any]) -> str | None:
    return (silence.get("status") or {}).get("state")


def _first_started(silence: dict[str, Any]) -> tuple[dt.datetime, str]:
    return timestamp(str(silence["startsAt"])), str(silence["id"])


async def acknowledgements(client: AlertmanagerClient, labels: dict[str, str]) -> list[dict[str, Any]]:
    """The active silences of exactly these labels, the one that started first first."""
    found = await client.silences(label_filters(labels))
    active = [s for s in found if _state(s) == "active" and is_exact_silence(s, labels)]
    return sorted(active, key=_first_started)


async def settle(client: AlertmanagerClient, labels: dict[str, str]) -> dict[str, Any] | None:
    """Keeps the first-started active acknowledgement of these labels, expires the others; returns it."""
    found = await acknowledgements(client, labels)
    if not found:
        return None
    kept, *duplicates = found
    for duplicate in duplicates:
        await _expire(client, str(duplicate["id"]))
    return kept


async def _expire(client: AlertmanagerClient, silence_id: str) -> None:
    """Expires a silence; one that another racer expired first is fine."""
    try:
        await client.expire_silence(silence_id)
    except AlertmanagerError:
        if _state(await client.silence(silence_id)) != "expired":
            raise
