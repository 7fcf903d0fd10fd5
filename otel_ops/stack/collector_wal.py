"""Repair of the remote-write exporter's write-ahead log after the Collector was killed mid-write.

The exporter keeps metrics waiting for Prometheus in a segmented log (``<storage>/prometheus-wal/*/``,
files named by their first index). Each entry is a uvarint length followed by that many bytes. A
Collector killed while appending leaves a torn last entry, and the next start fails with
``failed to open WAL: log corrupt``. The torn entry was never acknowledged to a client (the receiver
answers after the write), so cutting the last segment back to its last complete entry loses nothing that
was accepted, and the Collector starts again.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

_logger = logging.getLogger("otel_ops.stack")
WAL_DIRECTORY = "prometheus-wal"


def complete_prefix(data: bytes) -> int:
    """Length of the longest prefix of ``data`` made of whole ``uvarint length + payload`` entries."""
    position = 0
    size = len(data)
    while position < size:
        length = 0
        shift = 0
        cursor = position
        while True:
            if cursor >= size or shift > 63:
                return position  # the length itself is torn
            byte = data[cursor]
            cursor += 1
            length |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
        if length == 0 or cursor + length > size:
            return position  # an empty or torn payload
        position = cursor + length
    return position


def repair_remote_write_wal(storage_dir: Path) -> list[tuple[Path, int]]:
    """Cut torn entries off the last segment of every remote-write WAL under ``storage_dir``.

    Returns the segments repaired with the bytes removed from each (nothing when the log is whole).
    """
    repaired: list[tuple[Path, int]] = []
    root = storage_dir / WAL_DIRECTORY
    if not root.is_dir():
        return repaired
    for log_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        segments = sorted(p for p in log_dir.iterdir() if p.is_file() and p.name.isdigit())
        if not segments:
            continue
        last = segments[-1]
        data = last.read_bytes()
        keep = complete_prefix(data)
        if keep == len(data):
            continue
        with open(last, "r+b") as segment:
            segment.truncate(keep)
            segment.flush()
            os.fsync(segment.fileno())
        removed = len(data) - keep
        _logger.warning("repaired the remote-write WAL %s: cut %d bytes of a torn last entry", last, removed)
        repaired.append((last, removed))
    return repaired
