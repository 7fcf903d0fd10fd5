"""Stable error fingerprints: the same bug gets the same id across requests, processes and deploys.

A fingerprint hashes the exception's type, the module and function of its in-app frames (no line numbers,
no paths: they change with every deploy), and its message with the variable parts (numbers, ids, UUIDs,
URLs, e-mail addresses, quoted values, hex) replaced by placeholders.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sys
import sysconfig
from types import TracebackType

_MAX_FRAMES = 8

_MESSAGE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[a-zA-Z][a-zA-Z0-9+.\-]*://\S+", "<url>"),
        (r"[\w.+\-]+@[\w\-]+\.[\w.\-]+", "<email>"),
        (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<uuid>"),
        (r"\b0x[0-9a-fA-F]+\b", "<hex>"),
        (r"\b[0-9a-fA-F]{12,}\b", "<hex>"),
        (r"'[^']*'", "'<str>'"),
        (r'"[^"]*"', '"<str>"'),
        (r"(?<![A-Za-z_])[-+]?\d+(?:[.,:]\d+)*", "<n>"),
    )
)

_LIBRARY_ROOTS = tuple(
    {p for p in (sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib")) if p}
)
_in_app_cache: dict[str, bool] = {}


def _in_app(filename: str) -> bool:
    cached = _in_app_cache.get(filename)
    if cached is None:
        cached = not (
            "site-packages" in filename
            or "dist-packages" in filename
            or filename.startswith(_LIBRARY_ROOTS)
            or filename.startswith("<")
            or "/otel_ops/instrumentation/" in filename
        )
        _in_app_cache[filename] = cached
    return cached


def normalize_message(message: str) -> str:
    for pattern, replacement in _MESSAGE_RULES:
        message = pattern.sub(replacement, message)
    return message[:500]


def _frames(tb: TracebackType | None) -> list[str]:
    all_frames: list[str] = []
    in_app: list[str] = []
    while tb is not None:
        code = tb.tb_frame.f_code
        module = tb.tb_frame.f_globals.get("__name__", "?")
        name = f"{module}:{getattr(code, 'co_qualname', code.co_name)}"
        all_frames.append(name)
        if _in_app(code.co_filename):
            in_app.append(name)
        tb = tb.tb_next
    chosen = in_app or all_frames
    return chosen[-_MAX_FRAMES:]


def exception_type_name(exc: BaseException) -> str:
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "__main__") else f"{module}.{cls.__qualname__}"


def fingerprint(exc: BaseException) -> str:
    """A 16-hex-digit id grouping occurrences of the same error.

    Computed once per exception object, where it is first recorded (its innermost handler), so an error
    recorded again on its way out (LLM call, agent run, HTTP request) keeps one fingerprint.
    """
    cached = getattr(exc, "_otel_ops_fingerprint", None)
    if cached is not None:
        return str(cached)
    parts = [exception_type_name(exc), *_frames(exc.__traceback__), normalize_message(str(exc))]
    result = hashlib.sha256("\n".join(parts).encode("utf-8", "replace")).hexdigest()[:16]
    with contextlib.suppress(AttributeError, TypeError):  # exceptions with __slots__ or from C extensions
        exc._otel_ops_fingerprint = result  # type: ignore[attr-defined]
    return result


def fingerprint_current() -> str | None:
    exc = sys.exc_info()[1]
    return fingerprint(exc) if exc is not None else None
