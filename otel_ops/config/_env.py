"""Environment variable parsing by the OpenTelemetry specification's rules.

* An empty value (after trimming) means unset.
* Booleans are true only for a case-insensitive ``true``; ``false`` is false; anything else is warned about
  and the default is used.
* A value that cannot be parsed is warned about (once per variable and value) and ignored.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import unquote

_logger = logging.getLogger("otel_ops.config")
_warned: set[tuple[str, str]] = set()

T = TypeVar("T")


class InvalidValue(ValueError):
    """Raised by a parser when a value does not fit; the message says what is expected."""


def warn_invalid(name: str, raw: str, reason: str) -> None:
    key = (name, raw)
    if key in _warned:
        return
    _warned.add(key)
    _logger.warning("Ignoring %s=%r: %s", name, raw, reason)


def raw(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The trimmed value of ``name``, or None when it is unset or empty."""
    value = (os.environ if environ is None else environ).get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def read(name: str, parse: Callable[[str], T], environ: Mapping[str, str] | None = None) -> T | None:
    """Parse ``name`` with ``parse``; None when unset, empty or invalid (invalid values are warned about)."""
    value = raw(name, environ)
    if value is None:
        return None
    try:
        return parse(value)
    except (InvalidValue, ValueError) as exc:
        warn_invalid(name, value, str(exc) or "invalid value")
        return None


# -- parsers: each takes a non-empty trimmed string and returns a value or raises InvalidValue ------------
def parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise InvalidValue("expected 'true' or 'false'")


def parse_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidValue("expected an integer") from None
    return number


def parse_non_negative_int(value: str) -> int:
    number = parse_int(value)
    if number < 0:
        raise InvalidValue("expected an integer >= 0")
    return number


def parse_positive_int(value: str) -> int:
    number = parse_int(value)
    if number <= 0:
        raise InvalidValue("expected an integer > 0")
    return number


def parse_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidValue("expected a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise InvalidValue("expected a finite number")
    return number


def parse_non_negative_float(value: str) -> float:
    number = parse_float(value)
    if number < 0:
        raise InvalidValue("expected a number >= 0")
    return number


def parse_millis_as_seconds(value: str) -> float:
    return parse_non_negative_float(value) / 1000.0


def parse_ratio(value: str) -> float:
    number = parse_float(value)
    if not 0.0 <= number <= 1.0:
        raise InvalidValue("expected a number between 0 and 1")
    return number


def parse_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def parse_key_values(value: str) -> dict[str, str]:
    """``key1=value1,key2=value2`` with percent-encoded values (W3C baggage format, as the spec asks)."""
    result: dict[str, str] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise InvalidValue(f"expected key=value pairs separated by commas, got {item.strip()!r}")
        result[unquote(key.strip())] = unquote(val.strip())
    return result


def parse_choice(*choices: str) -> Callable[[str], str]:
    allowed = tuple(c.lower() for c in choices)

    def parse(value: str) -> str:
        lowered = value.lower()
        if lowered not in allowed:
            raise InvalidValue(f"expected one of {', '.join(allowed)}")
        return lowered

    return parse
