"""Handing memory the process freed back to the operating system.

Scoring a backfilled history allocates and frees megabytes in small pieces. CPython returns an arena of
small objects as soon as it is empty, but the C allocator (glibc's ``malloc``) keeps the pages it freed
between live allocations and reuses them only for the process' own later allocations, so they stay in
its resident memory. ``malloc_trim`` hands them back. Elsewhere (musl, macOS, Windows) it is a no-op.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        process = ctypes.CDLL(None)  # the symbols already loaded: the C library's among them
    except OSError:
        return None
    trim = getattr(process, "malloc_trim", None)
    if trim is not None:
        trim.argtypes = [ctypes.c_size_t]
        trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Free what only reference cycles keep alive (an HTTP response and its stream), then give the C
    allocator's free pages back to the operating system; whether it could be asked."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
