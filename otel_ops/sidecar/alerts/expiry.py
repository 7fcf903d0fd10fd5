"""Parse an acknowledgement's expiry: a duration (``90s``, ``30m``, ``2h``, ``1d``, ``1h30m``) or a time.

An acknowledgement lasts at least :data:`MIN_ACK` (1 minute) and at most :data:`MAX_ACK` (90 days): a
silence shorter than a minute ends before anyone reads it, and one longer than a quarter hides an alert
that should have been fixed or deleted.  Anything outside that range is refused with a message that says
the range, never an overflow.
"""

from __future__ import annotations

import datetime as dt
import re

MIN_ACK = dt.timedelta(minutes=1)
MAX_ACK = dt.timedelta(days=90)
RANGE_TEXT = "between 1 minute and 90 days"

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_UNIT_SECONDS = (86_400, 3_600, 60, 1)
# Far more digits than any duration in range needs; longer numbers are out of range, never parsed.
_MAX_DIGITS = 12


class ExpiryError(ValueError):
    pass


def _duration_seconds(groups: tuple[str | None, ...]) -> int | None:
    """Total seconds of a parsed duration; ``None`` when a number is too long to be in range."""
    total = 0
    for part, unit in zip(groups, _UNIT_SECONDS, strict=True):
        if part is None:
            continue
        if len(part.lstrip("0")) > _MAX_DIGITS:
            return None
        total += int(part) * unit
    return total


def _out_of_range(text: str) -> ExpiryError:
    return ExpiryError(
        f"expiry {text!r} is out of range: an acknowledgement lasts {RANGE_TEXT} "
        "(e.g. '30m', '2h', '7d', or an ISO-8601 time within 90 days)"
    )


def parse_expiry(text: str, now: dt.datetime) -> dt.datetime:
    """Absolute expiry time (UTC), 1 minute to 90 days after ``now``; ``ExpiryError`` otherwise."""
    value = text.strip()
    match = _DURATION.match(value) if value else None
    if match and any(match.groups()):
        seconds = _duration_seconds(match.groups())
        if seconds is None or not MIN_ACK.total_seconds() <= seconds <= MAX_ACK.total_seconds():
            raise _out_of_range(text)
        return (now + dt.timedelta(seconds=seconds)).astimezone(dt.UTC)
    try:
        expires = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ExpiryError(
            f"expiry {text!r} is neither a duration like '30m', '2h', '1d' nor an ISO-8601 time"
        ) from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    try:
        remaining = expires - now
    except OverflowError:  # a time at the edge of the calendar with an offset that leaves it
        raise _out_of_range(text) from None
    if remaining <= dt.timedelta(0):
        raise ExpiryError(f"expiry {value} is not in the future")
    if not MIN_ACK <= remaining <= MAX_ACK:
        raise _out_of_range(text)
    return expires.astimezone(dt.UTC)
