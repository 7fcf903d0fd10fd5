"""Streaming robust scale of forecast errors."""

from __future__ import annotations

from otel_ops.sidecar.anomaly.rolling import SortedWindow

MAD_TO_SIGMA = 1.4826
MEAN_ABS_TO_SIGMA = 1.2533
RELATIVE_FLOOR = 1e-9


class ErrorScale:
    """Robust standard deviation of recent forecast errors.

    Uses the median absolute error; when more than half of the errors are exactly zero (quantised or mostly
    flat series) it falls back to the mean absolute error, and to a tiny floor for a perfectly flat series.
    """

    __slots__ = ("_abs_errors", "_sum")

    def __init__(self, capacity: int) -> None:
        self._abs_errors = SortedWindow(capacity)
        self._sum = 0.0

    def __len__(self) -> int:
        return len(self._abs_errors)

    def observe(self, error: float) -> None:
        magnitude = abs(error)
        evicted = self._abs_errors.push(magnitude)
        if evicted is not None:
            self._sum -= evicted
        self._sum += magnitude

    def sigma(self, reference_level: float) -> float:
        window = self._abs_errors
        floor = RELATIVE_FLOOR * max(1.0, abs(reference_level))
        if len(window) == 0:
            return floor
        mad_sigma = MAD_TO_SIGMA * window.median()
        if mad_sigma > 0.0:
            return max(mad_sigma, floor)
        return max(MEAN_ABS_TO_SIGMA * self._sum / len(window), floor)
