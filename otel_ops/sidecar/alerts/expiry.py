"""Parse an acknowledgement's expiry: a duration (``90s``, ``30m``, ``2h``, ``1d``, ``1h30m``) or a time."""

from __future__ import annotations

import datetime as dt
import re

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class ExpiryError(ValueError):
    pass


def parse_expiry(text: str, now: dt.datetime) -> dt.datetime:
    """Absolute expiry time (UTC); ``ExpiryError`` if unparsable or not in the future."""
    value = text.strip()
    match = _DURATION.match(value) if value else None
    if match and any(match.groups()):
        days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
        expires = now + dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    else:
        try:
            expires = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ExpiryError(
                f"expiry {text!r} is neither a duration like '30m', '2h', '1d' nor an ISO-8601 time"
            ) from None
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
    if expires <= now:
        raise ExpiryError(f"expiry {expires.isoformat()} is not in the future")
    return expires.astimezone(dt.UTC)
