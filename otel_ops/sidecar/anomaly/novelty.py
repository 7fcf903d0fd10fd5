"""Value novelty: a value unlike any seen recently."""

from __future__ import annotations

import math
from collections import deque

from otel_ops.sidecar.anomaly.config import NoveltyConfig
from otel_ops.sidecar.anomaly.records import RECORD_TAIL_POINTS, log10_record_probability
from otel_ops.sidecar.anomaly.rolling import VALUES_TYPECODE, SortedWindow, sorted_window
from otel_ops.sidecar.anomaly.tail_calibration import TailCalibrator
from otel_ops.sidecar.anomaly.unbanded import UnbandedDetector


class ValueNoveltyDetector(UnbandedDetector):
    """Scores the distance from a new value to the nearest of the last ``window_points`` values.

    Forecast-based detectors judge a value against recent noise, so a value inside the usual range of
    swings goes unnoticed even when the series has never been there: a peak a little higher than every
    earlier peak, a level in the gap between the two levels a bimodal series switches between, a spike on a
    series whose spikes always had the same height.  This detector asks instead "how far is this value from
    everything seen in the past week?", and turns that distance into a tail probability against its own
    history of such distances, so that only unusually new values score.  It gives no expected band.

    A record (a value beyond every value of the window) claims no more than the window's own extremes
    support: a week of ``n`` values holds a new maximum once in ``n + 1`` points, and one beyond it by a
    margin as rarely as an exponential tail past the maximum makes it (see
    :mod:`~otel_ops.sidecar.anomaly.records`).
    A value a little above the week's peaks is then about a one-in-n point, not the one-in-1e40 that
    its distance to the dense bulk of values suggests.  Records that follow each other (a leak climbing
    past its old peaks) are judged together: ``r`` records within ``record_run_points`` are as likely as
    the product of their own probabilities, times the ways to place the ``r - 1`` earlier ones.
    """

    name = "novelty"

    def __init__(self, config: NoveltyConfig | None = None, values: SortedWindow | None = None) -> None:
        """``values``: a window of ``config.window_points`` values kept by the caller, who adds each value
        once every detector sharing it has scored it; by default the detector keeps its own."""
        self.config = config or NoveltyConfig()
        self.full_scale_log10 = self.config.calibration.full_scale_log10
        cfg = self.config
        self._owns_values = values is None
        self._values = sorted_window(cfg.window_points, VALUES_TYPECODE) if values is None else values
        self._calibrator = TailCalibrator.from_config(cfg.calibration)
        self._point = 0
        # Per side (1 above, -1 below the window): recent records as (point, log10 of their probability).
        self._records: dict[int, deque[tuple[int, float]]] = {1: deque(), -1: deque()}

    def probability(self, timestamp: float, value: float) -> float:
        cfg = self.config
        probability = 1.0
        values = self._values
        value = values.kept(value)  # a value seen before is at distance 0, as it is kept
        if len(values) >= cfg.min_points and self._counts(value):
            probability = self._calibrator.score_and_observe(values.nearest_distance(value))
            side = 1 if value > values.maximum() else -1 if value < values.minimum() else 0
            if side:
                probability = max(probability, self._record_probability(value, side))
        self._point += 1
        if self._owns_values:
            self._values.push(value)
        return probability

    def _record_probability(self, value: float, side: int) -> float:
        """The most a record on ``side`` may claim, given the window's extremes and the recent records."""
        values = self._values
        n = len(values)
        k = min(RECORD_TAIL_POINTS, n - 1)
        if k < 1:
            return 0.0
        # The extremes from the most extreme inwards, and the record's margin beyond the most extreme.
        extremes = values.largest(k + 1)[::-1] if side > 0 else values.smallest(k + 1)
        log10_single = log10_record_probability(extremes, (value - extremes[0]) * side, n)
        if log10_single is None:
            return 0.0
        records = self._records[side]
        run = self.config.record_run_points
        while records and records[0][0] <= self._point - run:
            records.popleft()
        records.append((self._point, log10_single))
        r = len(records)
        log10_run = sum(p for _, p in records) + math.log10(math.comb(run - 1, r - 1))
        return 10.0 ** min(0.0, log10_run)

    def _counts(self, value: float) -> bool:
        """Whether ``value`` is on the configured side of the window's median (always, for ``both``)."""
        direction = self.config.direction
        if direction == "both":
            return True
        median = self._values.median()
        return value > median if direction == "up" else value < median
