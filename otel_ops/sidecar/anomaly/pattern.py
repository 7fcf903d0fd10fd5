"""Pattern novelty: the last few hours take a shape the series has not taken before."""

from __future__ import annotations

import itertools
import math
from array import array
from collections import deque

from otel_ops.sidecar.anomaly.config import PatternConfig
from otel_ops.sidecar.anomaly.rolling import Ring, to_single
from otel_ops.sidecar.anomaly.tail_calibration import TailCalibrator
from otel_ops.sidecar.anomaly.unbanded import UnbandedDetector

_SQRT_HALF = math.sqrt(0.5)


def shape_features(levels: list[float]) -> list[float]:
    """The levels followed by their Haar wavelet details (coarse to fine): a shape's level and its
    changes at every scale, so that a step, a ramp and a burst of the same height differ."""
    details: list[list[float]] = []
    approximation = levels
    while len(approximation) > 1:
        even, odd = approximation[0::2], approximation[1::2]
        details.append([(b - a) * _SQRT_HALF for a, b in zip(even, odd, strict=True)])
        approximation = [(a + b) * _SQRT_HALF for a, b in zip(even, odd, strict=True)]
    features = list(levels)
    for detail in reversed(details):
        features.extend(detail)
    return features


# A box's distance is bounded from its sums over this many groups of dimensions (three per group for
# shapes of 15).
_BOUND_GROUPS = 5
# A box whose bound exceeds the nearest distance found by less than this share of the values' magnitude
# is measured anyway: a bound is a sum of sums kept in single precision.
_BOUND_SLACK = 1e-6


def pairwise_sum(values: list[float]) -> float:
    """``sum(values)`` by pairwise summation in numpy's order (eight running sums, combined pairwise, then
    the rest): rounding grows slower than adding in turn, and distances are the same to the last bit as
    those of otel-ops releases that measured them with numpy."""
    n = len(values)
    if n < 8:
        total = 0.0
        for value in values:
            total += value
        return total
    if n > 128:
        half = n // 2
        half -= half % 8
        return pairwise_sum(values[:half]) + pairwise_sum(values[half:])
    r = values[:8]
    end = n - n % 8
    for i in range(8, end, 8):
        for j in range(8):
            r[j] += values[i + j]
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for value in values[end:]:
        total += value
    return total


def _distance_bounds(sums: list[float], low: list[array], high: list[array], boxes: int) -> list[float]:
    """For the first ``boxes`` boxes, how far the shape's sums per group of dimensions (``sums``) lie
    outside the box's ranges of sums (``low[g][box]`` to ``high[g][box]``): no more than the shape's
    distance to the box."""
    x0, x1, x2, x3, x4 = sums
    columns = [column[:boxes] for pair in zip(low, high, strict=True) for column in pair]
    return [
        (lo0 - x0 if x0 < lo0 else x0 - hi0 if x0 > hi0 else 0.0)
        + (lo1 - x1 if x1 < lo1 else x1 - hi1 if x1 > hi1 else 0.0)
        + (lo2 - x2 if x2 < lo2 else x2 - hi2 if x2 > hi2 else 0.0)
        + (lo3 - x3 if x3 < lo3 else x3 - hi3 if x3 > hi3 else 0.0)
        + (lo4 - x4 if x4 < lo4 else x4 - hi4 if x4 > hi4 else 0.0)
        for lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3, lo4, hi4 in zip(*columns, strict=True)
    ]


class _Patterns:
    """Known shapes as boxes in feature space (per dimension the lowest and highest value seen).

    A shape joins the nearest box when the grown box stays within ``vigilance`` of the range per
    dimension; otherwise it becomes a box of its own (the idea of Adaptive Resonance Theory with
    complement coding, in geometric form). At most ``capacity`` boxes are kept, their bounds in flat
    arrays of C floats (box ``i`` at ``[i * dims, (i + 1) * dims)``): shapes are learnt and measured in
    single precision (a relative resolution of 6e-8), so a shape seen before is still at distance 0.

    The nearest box is found exactly without measuring most boxes: the dimensions fall into five groups,
    and each box keeps the sums of its low and high bounds per group.  A shape is at least as far from a
    box as its own sum per group is from the box's range of sums (the triangle inequality), so boxes are
    measured in the order of that bound and only while it is below the nearest distance found.
    """

    __slots__ = (
        "_capacity",
        "_dims",
        "_group_high",
        "_group_low",
        "_groups",
        "_high",
        "_last_nearest",
        "_last_seen",
        "_low",
        "_vigilance",
    )

    def __init__(self, vigilance: float, capacity: int) -> None:
        self._vigilance = vigilance
        self._capacity = capacity
        self._dims = 0
        self._groups: tuple[tuple[int, int], ...] = ()
        self._low = array("f")
        self._high = array("f")
        self._group_low = [array("f") for _ in range(_BOUND_GROUPS)]
        self._group_high = [array("f") for _ in range(_BOUND_GROUPS)]
        self._last_seen = array("q")
        self._last_nearest = 0

    def __len__(self) -> int:
        return len(self._last_seen)

    def learn(self, shape: list[float], unit: float, now: int) -> tuple[bool, float]:
        """Learn ``shape``; (whether it started a new pattern, its distance to the nearest known one).

        Distances are mean absolute per-dimension distances in units of ``unit`` (the recent range).
        """
        shape = array("f", shape).tolist()
        if not math.isfinite(sum(shape)):  # a value beyond single precision's range, kept at its largest
            shape = [to_single(x) for x in shape]
        dims = len(shape)
        if not self._last_seen:
            self._dims = dims
            cuts = (round(g * dims / _BOUND_GROUPS) for g in range(_BOUND_GROUPS + 1))
            self._groups = tuple(itertools.pairwise(cuts))
            self._put(0, shape, shape, now)
            return False, 0.0
        norm = unit * dims
        nearest, distance = self._nearest(shape, norm)
        self._last_nearest = nearest
        start, end = nearest * dims, (nearest + 1) * dims
        grown_low = [min(lo, x) for lo, x in zip(self._low[start:end], shape, strict=True)]
        grown_high = [max(hi, x) for hi, x in zip(self._high[start:end], shape, strict=True)]
        extent = pairwise_sum([hi - lo for lo, hi in zip(grown_low, grown_high, strict=True)])
        if extent / norm <= self._vigilance:
            self._put(nearest, grown_low, grown_high, now)
            return False, distance
        last_seen = self._last_seen
        slot = last_seen.index(min(last_seen)) if len(last_seen) >= self._capacity else len(last_seen)
        self._put(slot, shape, shape, now)
        return True, distance

    def _put(self, box: int, low: list[float], high: list[float], now: int) -> None:
        """Set box ``box`` (one past the last: a new box)."""
        if box == len(self._last_seen):
            self._low.extend(low)
            self._high.extend(high)
            self._last_seen.append(now)
            for column in (*self._group_low, *self._group_high):
                column.append(0.0)
        else:
            start, end = box * self._dims, (box + 1) * self._dims
            self._low[start:end] = array("f", low)
            self._high[start:end] = array("f", high)
            self._last_seen[box] = now
        for g, (a, b) in enumerate(self._groups):
            self._group_low[g][box] = to_single(sum(low[a:b]))
            self._group_high[g][box] = to_single(sum(high[a:b]))

    def _nearest(self, shape: list[float], norm: float) -> tuple[int, float]:
        """The box nearest to ``shape`` (the first of equals) and the distance to it, divided by ``norm``."""
        dims, low, high, last = self._dims, self._low, self._high, self._last_nearest
        start, end = last * dims, (last + 1) * dims
        best = pairwise_sum(
            [
                lo - x if x < lo else x - hi if x > hi else 0.0
                for lo, hi, x in zip(low[start:end], high[start:end], shape, strict=True)
            ]
        )
        sums = [sum(shape[a:b]) for a, b in self._groups]
        magnitude = sum(map(abs, sums))
        limit = best + _BOUND_SLACK * (best + magnitude)
        # Inside the box nearest last time, only an earlier box can be as near (the first of equals wins).
        boxes = last if best == 0.0 else len(self._last_seen)
        bounds = _distance_bounds(sums, self._group_low, self._group_high, boxes)
        candidates = [box for box, bound in enumerate(bounds) if bound <= limit]
        candidates.sort(key=bounds.__getitem__)
        measured = {last: best}
        for box in candidates:
            if bounds[box] > limit:
                break
            start, end = box * dims, (box + 1) * dims
            lows, highs = low[start:end], high[start:end]
            total = 0.0
            for lo, hi, x in zip(lows, highs, shape, strict=True):
                if x < lo:
                    total += lo - x
                elif x > hi:
                    total += x - hi
                else:
                    continue
                if total > limit:
                    break  # farther than a box already measured: only the order of additions differs
            else:
                measured[box] = distance = pairwise_sum(
                    [
                        lo - x if x < lo else x - hi if x > hi else 0.0
                        for lo, hi, x in zip(lows, highs, shape, strict=True)
                    ]
                )
                if distance < best:
                    best = distance
                    limit = best + _BOUND_SLACK * (best + magnitude)
        nearest = min(measured, key=lambda box: (measured[box] / norm, box))
        return nearest, measured[nearest] / norm


class PatternNoveltyDetector(UnbandedDetector):
    """Scores the moment the recent shape of the series differs from every shape learned before.

    Points are grouped into steps of ``step_points``; each step keeps its value farthest from the running
    level, so a one-point spike is not averaged away. The last ``window_steps`` steps form a shape,
    described by its levels and their Haar wavelet details, in units of the value range of the last
    ``range_points`` points. Shapes are learned as patterns (:class:`_Patterns`); only a shape that starts
    a new pattern is evidence, measured by its distance to the nearest known one and turned into a tail
    probability against the series' history of such distances (steps that start nothing count as 0). The
    probability is per step; divided by the step length it is per point like the other detectors'. After
    a notable new pattern (``notable_probability``), ``quiet_steps`` steps do not count, so one change of
    behaviour is one piece of evidence; a series whose noise keeps starting patterns at tiny distances
    does not silence itself that way.

    It catches changes of behaviour that no single value reveals: a series that starts to oscillate, bursts
    of a new shape, a change in how often a series dips. It gives no expected band.
    """

    name = "pattern"

    def __init__(self, config: PatternConfig | None = None) -> None:
        self.config = config or PatternConfig()
        self.full_scale_log10 = self.config.calibration.full_scale_log10
        cfg = self.config
        self._block: list[float] = []
        self._level: float | None = None
        self._steps_for_range = Ring(max(2, cfg.range_points // cfg.step_points))
        self._shape: deque[float] = deque(maxlen=cfg.window_steps)
        self._patterns = _Patterns(cfg.vigilance, cfg.max_patterns)
        self._calibrator = TailCalibrator.from_config(cfg.calibration)
        self._points = 0
        self._steps = 0
        self._last_notable: int | None = None
        self._scoring_from = cfg.min_points + cfg.step_points * cfg.calibration.warmup_points

    def probability(self, timestamp: float, value: float) -> float:
        self._points += 1
        self._block.append(value)
        if len(self._block) == self.config.step_points:
            return self._end_step()
        return 1.0

    def _end_step(self) -> float:
        cfg = self.config
        block, self._block = self._block, []
        mean = sum(block) / len(block)
        reference = mean if self._level is None else self._level
        extreme = max(block, key=lambda v: abs(v - reference))
        self._level = mean if self._level is None else 0.5 * (self._level + mean)
        self._steps_for_range.push(extreme)
        self._shape.append(extreme)
        self._steps += 1
        if len(self._shape) < cfg.window_steps:
            return 1.0
        low, high = self._steps_for_range.minimum(), self._steps_for_range.maximum()
        unit = max(high - low, 1e-9 * max(1.0, abs(high)))
        started, distance = self._patterns.learn(shape_features(list(self._shape)), unit, self._steps)
        quiet = self._last_notable is not None and self._steps - self._last_notable <= cfg.quiet_steps
        if not started or quiet or self._points < cfg.min_points:
            self._calibrator.observe(0.0)  # no new pattern counted at this step
            return 1.0
        probability = self._calibrator.score_and_observe(distance)
        if probability <= cfg.notable_probability:
            self._last_notable = self._steps
        if self._points < self._scoring_from:
            return 1.0  # the first new patterns after min_points are learned, not yet scored
        return min(1.0, probability / cfg.step_points)
