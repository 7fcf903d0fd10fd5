"""Streaming robust scale of forecast errors."""

from __future__ import annotations

from statistics import median

from otel_ops.sidecar.anomaly.rolling import Blocks, Ring, SortedWindow, to_single

MAD_TO_SIGMA = 1.4826
MEAN_ABS_TO_SIGMA = 1.2533
RELATIVE_FLOOR = 1e-9


class ErrorScale:
    """Robust standard deviation of recent forecast errors.

    Uses the median absolute error; when more than half of the errors are exactly zero (quantised or mostly
    flat series) it falls back to the mean absolute error, and to a tiny floor for a perfectly flat series.

    With ``block_points`` above 1 (series finer than the reference step) the window keeps one entry per
    block of errors, the median of their magnitudes (and their mean, for the fallback), so a day of 1-minute
    errors costs what a day of 5-minute ones does. Magnitudes are kept in single precision (a scale needs
    no more than its first few digits); the running sum adds them as kept, so what leaves the window takes
    out what it brought.
    """

    __slots__ = ("_abs_errors", "_blocks", "_means", "_sum")

    def __init__(self, capacity: int, block_points: int = 1) -> None:
        self._abs_errors = SortedWindow(capacity, "f")
        self._sum = 0.0
        self._blocks = Blocks(block_points) if block_points > 1 else None
        self._means = Ring(capacity, "f")  # block means, as many as the window's block medians

    def __len__(self) -> int:
        return len(self._abs_errors)

    def observe(self, error: float) -> None:
        magnitude = abs(error)
        if self._blocks is None:
            magnitude = self._abs_errors.kept(magnitude)
            evicted = self._abs_errors.push(magnitude)
            if evicted is not None:
                self._sum -= evicted
            self._sum += magnitude
            return
        block = self._blocks.add(magnitude)
        if block is None:
            return
        self._abs_errors.push(median(block))
        mean = to_single(sum(block) / len(block))
        evicted = self._means.push(mean)
        if evicted is not None:
            self._sum -= evicted
        self._sum += mean

    def sigma(self, reference_level: float) -> float:
        window = self._abs_errors
        floor = RELATIVE_FLOOR * max(1.0, abs(reference_level))
        if len(window) == 0:
            return floor
        mad_sigma = MAD_TO_SIGMA * window.median()
        if mad_sigma > 0.0:
            return max(mad_sigma, floor)
        return max(MEAN_ABS_TO_SIGMA * self._sum / len(window), floor)
