"""Turn a stream of non-negative surprise values into tail probabilities (peaks over threshold).

Each detector measures how surprising a point is (a robust z-score).  How large a surprise must be to be
rare differs enormously between series (a smooth memory gauge versus a bursty request counter), so a fixed
z cut-off cannot serve every series.  The calibrator keeps a bounded window of the series' own past
surprises and estimates ``P(surprise >= z)``: empirically inside the bulk, and beyond a high quantile with a
generalised Pareto tail fitted by the method of moments (the extreme-value approach of Siffer et al., KDD
2017), which extrapolates past the largest value seen so far.

Surprises are added to the history after they are scored, so a recurring pattern stops looking rare after
it has been seen a few times.
"""

from __future__ import annotations

import math

from otel_ops.sidecar.anomaly.config import CalibrationConfig
from otel_ops.sidecar.anomaly.rolling import SortedWindow

MIN_TAIL_POINTS = 8
# Where doubles run out, not a cap on the evidence: scores stop at 1.0 (``probability_to_score``), but the
# ensemble compares the evidence of two alerts beyond that, so a floor both reach would make an outage right
# after a false alert at the floor unreportable.
SMALLEST_PROBABILITY = 1e-300


class TailCalibrator:
    """Online estimate of the upper-tail probability of a surprise value."""

    __slots__ = ("_history", "_tail_fraction", "_warmup")

    def __init__(self, history_points: int, warmup_points: int, tail_fraction: float = 0.05) -> None:
        if not 0.0 < tail_fraction < 0.5:
            raise ValueError("tail_fraction must be in (0, 0.5)")
        self._history = SortedWindow(history_points)
        self._warmup = max(warmup_points, MIN_TAIL_POINTS * 2)
        self._tail_fraction = tail_fraction

    @classmethod
    def from_config(cls, config: CalibrationConfig) -> TailCalibrator:
        return cls(config.history_points, config.warmup_points, config.tail_fraction)

    @property
    def ready(self) -> bool:
        return len(self._history) >= self._warmup

    def tail_probability(self, surprise: float, resolution: float = 0.0) -> float:
        """Estimated probability of a surprise at least this large; 1.0 until enough history exists.

        ``resolution``: the smallest difference in surprise that means anything (a measurement's own
        precision); the tail's scale is never taken below it, so a history of near-identical surprises
        does not make one a hair larger impossibly rare."""
        history = self._history
        n = len(history)
        if n < self._warmup:  # not ready
            return 1.0
        tail_count = max(MIN_TAIL_POINTS, int(self._tail_fraction * n))
        excesses_base = history.quantile(1.0 - tail_count / n)
        at_least = history.count_at_least(surprise)
        if surprise <= excesses_base:
            return (at_least + 1) / (n + 1)
        empirical = at_least / (n + 1)
        tail = history.largest(tail_count)
        excesses = [v - excesses_base for v in tail if v > excesses_base]
        excess = surprise - excesses_base
        exceed_rate = max(len(excesses), 1) / n
        mean = sum(excesses) / len(excesses) if excesses else 0.0
        variance = sum((e - mean) ** 2 for e in excesses) / (len(excesses) - 1) if len(excesses) > 1 else 0.0
        shape = 0.0
        if variance > 1e-12 * mean * mean and len(excesses) >= MIN_TAIL_POINTS // 2:
            shape = 0.5 * (1.0 - mean * mean / variance)
        if shape <= 1e-6:
            # Light or bounded tails are not trusted beyond the data: extrapolate exponentially instead.
            scale = max(mean, resolution, 1e-9 * max(1.0, abs(excesses_base)))
            survival = math.exp(-excess / scale)
        else:
            gpd_scale = mean * (1.0 - shape)
            survival = (1.0 + shape * excess / gpd_scale) ** (-1.0 / shape)
        # Never claim a value is rarer than its observed frequency in the history.
        return max(exceed_rate * survival, empirical, SMALLEST_PROBABILITY)

    def observe(self, surprise: float) -> None:
        self._history.push(surprise)

    def score_and_observe(self, surprise: float) -> float:
        probability = self.tail_probability(surprise)
        self.observe(surprise)
        return probability


def probability_to_score(probability: float, full_scale_log10: float) -> float:
    """Map a tail probability to 0..1 on a log scale: ``p = 10**-full_scale_log10`` (or less) scores 1."""
    if probability >= 1.0:
        return 0.0
    return min(1.0, -math.log10(max(probability, SMALLEST_PROBABILITY)) / full_scale_log10)
