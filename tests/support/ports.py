"""Loopback ports for test servers, handed over without the close-then-reuse race.

Asking the OS for a free port (bind to port 0, read it, close) hands out a port from the ephemeral range,
which the OS may give to any outgoing connection (or another test process) before the server binds it.
These ports come from below the ephemeral range instead, where the OS never assigns ports on its own,
and each is claimed for the life of this process with an advisory lock, so parallel test runs on one
machine never pick the same one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import socket
import tempfile
from pathlib import Path
from typing import IO

_LOCK_DIR = Path(tempfile.gettempdir()) / "otel-ops-test-ports"
_claimed: dict[int, IO[str]] = {}


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_LOW, _HIGH = 20000, min(_ephemeral_floor(), 32768) - 1
_rng = random.Random(os.getpid())


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _claim(port: int) -> bool:
    _LOCK_DIR.mkdir(exist_ok=True)
    handle = (_LOCK_DIR / f"{port}.lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return False
    if not _bindable(port):
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
        return False
    _claimed[port] = handle
    return True


def free_port() -> int:
    """A loopback port nothing listens on, below the ephemeral range, claimed by this process."""
    for _ in range(1000):
        port = _rng.randint(_LOW, _HIGH)
        if port not in _claimed and _claim(port):
            return port
    raise RuntimeError(f"no free port between {_LOW} and {_HIGH}")


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports as :func:`free_port` gives them."""
    return [free_port() for _ in range(count)]
