"""Flat labelled series for testing NAB scoring and validation: only their anomaly windows matter."""

from __future__ import annotations

from bench.nab.corpus import LabelledFile
from otel_ops.sidecar.anomaly import TimeSeries

ROWS = 400


def labelled_file(name: str, windows: list[tuple[int, int]]) -> LabelledFile:
    """``ROWS`` zeros at a 5-minute step, with anomaly ``windows`` (first and last row of each)."""
    series = TimeSeries(
        timestamp_text=[str(i) for i in range(ROWS)],
        epoch_seconds=[float(i * 300) for i in range(ROWS)],
        values=[0.0] * ROWS,
    )
    return LabelledFile(name, series, windows)
