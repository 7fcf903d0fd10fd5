"""Turn a stream of non-negative surprise values into tail probabilities (peaks over threshold).

Each detector measures how surprising a point is (a robust z-score).  How large a surprise must be to be
rare differs enormously between series (a smooth memory gauge versus a bursty request counter), so a fixed
z cut-off cannot serve every series.  The calibrator keeps a bounded window of the series' own past
surprises and estimates ``P(surprise >= z)``: empirically inside the bulk, and beyond a high quantile with a
generalised Pareto tail fitted by the method of moments (the extreme-value approach of Siffer et al., KDD
2017), which extrapolates past the largest value seen so far.

Surprises are added to the history after they are scored, so a recurring pattern stops looking rare after
it has been seen a few times.

On a series finer than the detectors' reference step, the history keeps one entry per block of points (the
largest surprise of the block), so a week of 1-minute points costs what a week of 5-minute points does.
The history then estimates ``P(block maximum >= z)`` (its tail starting at the same quantile of the
points), and a point's probability follows from extreme-value theory:
``P(block maximum >= z) = 1 - (1 - p) ** (block * theta)``. The extremal index ``theta`` (1 for independent
points, ``1 / block`` when every large surprise comes with a block of equally large ones, as a level
shift's do) is estimated by the blocks method: of the points above the tail's base, the share that are the
only one of their block.
"""

from __future__ import annotations

import math

from otel_ops.sidecar.anomaly.config import CalibrationConfig
from otel_ops.sidecar.anomaly.rolling import sorted_window

MIN_TAIL_POINTS = 8
# Where doubles run out, not a cap on the evidence: scores stop at 1.0 (``probability_to_score``), but the
# ensemble compares the evidence of two alerts beyond that, so a floor both reach would make an outage right
# after a false alert at the floor unreportable.
SMALLEST_PROBABILITY = 1e-300
# The tail of a history of block maxima starts where a share ``tail_fraction`` of the points lies above it,
# but never below the 55th percentile of the blocks (a tail, not the bulk, even for blocks of 30 points).
MAX_BLOCK_TAIL_FRACTION = 0.45


class TailCalibrator:
    """Online estimate of the upper-tail probability of a surprise value."""

    __slots__ = (
        "_block",
        "_block_exceedances",
        "_block_max",
        "_block_seen",
        "_clusters",
        "_decay",
        "_exceedances",
        "_history",
        "_tail_base",
        "_tail_fraction",
        "_warmup",
    )

    def __init__(
        self, history_points: int, warmup_points: int, tail_fraction: float = 0.05, block_points: int = 1
    ) -> None:
        if not 0.0 < tail_fraction < 0.5:
            raise ValueError("tail_fraction must be in (0, 0.5)")
        if block_points < 1:
            raise ValueError("block_points must be at least 1")
        self._history = sorted_window(history_points, "f")  # surprises: single precision is plenty
        self._warmup = max(warmup_points, MIN_TAIL_POINTS * 2)
        # In blocks, the tail starts at the same quantile of the points: a larger share of the blocks' maxima.
        self._tail_fraction = tail_fraction
        if block_points > 1:
            self._tail_fraction = min(MAX_BLOCK_TAIL_FRACTION, 1.0 - (1.0 - tail_fraction) ** block_points)
        self._block = block_points
        self._block_max = -math.inf
        self._block_seen = 0
        # Blocks method for the extremal index, over about the history's span (exponentially forgotten).
        self._tail_base = math.inf  # the tail's base when the block in progress started
        self._block_exceedances = 0  # its points above that base
        self._exceedances = 0.0  # points above the base, in blocks that had any
        self._clusters = 0.0  # blocks with any point above the base
        self._decay = 1.0 - 1.0 / history_points

    @classmethod
    def from_config(cls, config: CalibrationConfig) -> TailCalibrator:
        return cls(config.history_points, config.warmup_points, config.tail_fraction, config.block_points)

    @property
    def ready(self) -> bool:
        return len(self._history) >= self._warmup

    def tail_probability(self, surprise: float, resolution: float = 0.0) -> float:
        """Estimated probability of a surprise at least this large; 1.0 until enough history exists.

        ``resolution``: the smallest difference in surprise that means anything (a measurement's own
        precision); the tail's scale is never taken below it, so a history of near-identical surprises
        does not make one a hair larger impossibly rare."""
        # Compared as the history keeps it: a surprise equal to an earlier one ties with it.
        probability = self._entry_probability(self._history.kept(surprise), resolution)
        if self._block == 1 or probability >= 1.0:
            return probability
        # The history holds block maxima: the chance of a block reaching ``surprise`` is spread over its
        # points, counted as independent ones (``block * theta``).
        independent = self._block * self.extremal_index
        return max(-math.expm1(math.log1p(-probability) / independent), SMALLEST_PROBABILITY)

    @property
    def extremal_index(self) -> float:
        """Share of large surprises that come alone in their block (1.0 until enough were seen)."""
        if self._exceedances < MIN_TAIL_POINTS:
            return 1.0
        return min(1.0, max(1.0 / self._block, self._clusters / self._exceedances))

    def _entry_probability(self, surprise: float, resolution: float) -> float:
        """``P(history entry >= surprise)``: of one point, or of a block's largest surprise."""
        history = self._history
        n = len(history)
        if n < self._warmup:  # not ready
            return 1.0
        tail_count = self._tail_count(n)
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
        if not excesses:
            # A tail of ties (a statistic of counts takes few values) says nothing of how fast it falls
            # beyond them: its scale is the history's own step below the tie, the grid it lives on.
            resolution = max(resolution, min(history.gap_below(excesses_base), excesses_base))
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
        if self._block == 1:
            self._history.push(surprise)
            return
        if self._block_seen == 0:
            history = self._history
            n = len(history)
            ready = n >= self._warmup
            self._tail_base = history.quantile(1.0 - self._tail_count(n) / n) if ready else math.inf
        if surprise > self._tail_base:
            self._block_exceedances += 1
        self._block_max = max(self._block_max, surprise)
        self._block_seen += 1
        if self._block_seen == self._block:
            self._history.push(self._block_max)
            if self._tail_base < math.inf:
                self._exceedances = self._decay * self._exceedances + self._block_exceedances
                self._clusters = self._decay * self._clusters + (self._block_exceedances > 0)
            self._block_max = -math.inf
            self._block_seen = 0
            self._block_exceedances = 0

    def _tail_count(self, n: int) -> int:
        return max(MIN_TAIL_POINTS, int(self._tail_fraction * n))

    def score_and_observe(self, surprise: float) -> float:
        probability = self.tail_probability(surprise)
        self.observe(surprise)
        return probability


def probability_to_score(probability: float, full_scale_log10: float) -> float:
    """Map a tail probability to 0..1 on a log scale: ``p = 10**-full_scale_log10`` (or less) scores 1."""
    if probability >= 1.0:
        return 0.0
    return min(1.0, -math.log10(max(probability, SMALLEST_PROBABILITY)) / full_scale_log10)
