"""Whether a URL given by a user can name an HTTP server: ``http(s)://host[:port][/path]``."""

from __future__ import annotations

from urllib.parse import urlsplit


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an http(s) URL with a host and a valid port, or None when it is one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not a URL"
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number or out of range
    except ValueError:
        return "has an invalid port"
    return None
