"""Length limits and approximate sizes of queued telemetry, so an export queue is bounded in bytes.

Values are cut before they are queued (``OTEL_*ATTRIBUTE_VALUE_LENGTH_LIMIT``, otel-ops' log body limit);
sizes are rough encoded sizes (characters of strings, a few bytes per number and per item), computed in one
pass over the attributes when an item is queued.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_ops.instrumentation._scrub import Scrubber

NUMBER_SIZE = 8
ATTRIBUTE_OVERHEAD = 4  # key and value framing
_EVENT_OVERHEAD = 24  # timestamp and framing
SPAN_OVERHEAD = 128  # ids, timestamps, kind, status and framing of one span
# Text scrubbed beyond the cut, so a secret that straddles the cut is recognised whole and redacted rather
# than leaving its first characters behind.
_SCRUB_MARGIN = 2048
_MAX_DEPTH = 8
_PLAIN = (bool, int, float, type(None))


def cut(text: str, limit: int | None) -> str:
    """``text`` cut to ``limit`` characters."""
    return text if limit is None or len(text) <= limit else text[:limit]


def cut_keeping_end(text: str, limit: int | None, length: int | None = None) -> str:
    """``text`` cut to ``limit`` characters keeping its end (a stack trace ends where the error is), with a
    first line saying how much of its ``length`` (default: its own) was cut."""
    if limit is None or len(text) <= limit:
        return text
    marker = f"[{(length or len(text)) - limit} characters cut]\n"
    keep = limit - len(marker)
    return text[-limit:] if keep <= 0 else marker + text[-keep:]


def clip(text: str, limit: int | None, scrubber: Scrubber | None = None, keep_end: bool = False) -> str:
    """``text`` cut to ``limit`` characters (keeping its end if ``keep_end``), scrubbed before it is cut
    when ``scrubber`` is given; only the kept part (and a margin) is scrubbed, so a long text costs little."""
    if limit is None or len(text) <= limit:
        return text
    length = len(text)
    if scrubber is not None:
        margin = limit + _SCRUB_MARGIN
        text = scrubber.text(text[-margin:] if keep_end else text[:margin])
    return cut_keeping_end(text, limit, length) if keep_end else cut(text, limit)


def scrub_and_clip(text: str, limit: int | None, scrubber: Scrubber | None) -> str:
    """``text`` scrubbed and cut to ``limit``."""
    if limit is not None and len(text) > limit:
        return clip(text, limit, scrubber)
    return scrubber.text(text) if scrubber is not None else text


def _limit_value(value: Any, limit: int | None, depth: int) -> Any:
    if isinstance(value, str):
        return value if limit is None or len(value) <= limit else value[:limit]
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, bytes):
        return value if limit is None or len(value) <= limit else value[:limit]
    if depth < _MAX_DEPTH:
        if isinstance(value, Mapping):
            return {str(k): _limit_value(v, limit, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [_limit_value(v, limit, depth + 1) for v in value]
    # exported as its text anyway: convert now, so the queue holds a bounded string, not the app's object
    try:
        text = str(value)
    except Exception:
        text = f"<unprintable {type(value).__name__}>"
    return cut(text, limit)


def limit_values(attributes: Mapping[str, Any], limit: int | None) -> dict[str, Any]:
    """A copy of ``attributes`` whose string values (at any depth) are at most ``limit`` characters long;
    values of other types are turned into their (cut) text as the exporter would."""
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if type(value) is str:  # the common case, without the call
            out[key] = value if limit is None or len(value) <= limit else value[:limit]
        else:
            out[key] = _limit_value(value, limit, 0)
    return out


def value_size(value: Any, depth: int) -> int:
    if isinstance(value, (str, bytes)):
        return len(value)
    if depth < _MAX_DEPTH:
        if isinstance(value, Mapping):
            return sum(len(str(k)) + value_size(v, depth + 1) + ATTRIBUTE_OVERHEAD for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return sum(value_size(v, depth + 1) + ATTRIBUTE_OVERHEAD for v in value)
    return NUMBER_SIZE


def attributes_size(attributes: Mapping[str, Any] | None) -> int:
    """Approximate encoded size of ``attributes`` (keys summed by a builtin; one short loop over values)."""
    if not attributes:
        return 0
    size = ATTRIBUTE_OVERHEAD * len(attributes) + sum(map(len, attributes))
    for value in attributes.values():
        kind = value.__class__
        if kind is str:
            size += len(value)
        elif kind is int or kind is float or kind is bool:
            size += NUMBER_SIZE
        else:
            size += value_size(value, 0)
    return size


def events_size(events: Any) -> int:
    """Approximate encoded size of span events (SDK ``Event`` objects or (name, time, attributes))."""
    size = 0
    for event in events:
        if isinstance(event, tuple):
            name, _, attributes = event
        else:
            name, attributes = event.name, event.attributes
        size += _EVENT_OVERHEAD + len(name) + attributes_size(attributes)
    return size
