"""Pattern novelty: the last few hours take a shape the series has not taken before."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from otel_ops.sidecar.anomaly.config import PatternConfig
from otel_ops.sidecar.anomaly.result import AnomalyResult
from otel_ops.sidecar.anomaly.tail_calibration import TailCalibrator

_SQRT_HALF = math.sqrt(0.5)


def shape_features(levels: np.ndarray) -> np.ndarray:
    """The levels followed by their Haar wavelet details (coarse to fine): a shape's level and its
    changes at every scale, so that a step, a ramp and a burst of the same height differ."""
    details: list[np.ndarray] = []
    approximation = levels
    while approximation.size > 1:
        even, odd = approximation[0::2], approximation[1::2]
        details.append((odd - even) * _SQRT_HALF)
        approximation = (even + odd) * _SQRT_HALF
    return np.concatenate([levels, *reversed(details)])


class _Patterns:
    """Known shapes as boxes in feature space (per dimension the lowest and highest value seen).

    A shape joins the nearest box when the grown box stays within ``vigilance`` of the range per
    dimension; otherwise it becomes a box of its own (the idea of Adaptive Resonance Theory with
    complement coding, in geometric form). At most ``capacity`` boxes are kept.
    """

    __slots__ = ("_capacity", "_high", "_last_seen", "_low", "_vigilance")

    def __init__(self, vigilance: float, capacity: int) -> None:
        self._vigilance = vigilance
        self._capacity = capacity
        self._low: np.ndarray | None = None
        self._high: np.ndarray | None = None
        self._last_seen = np.zeros(0, dtype=np.int64)

    def learn(self, shape: np.ndarray, unit: float, now: int) -> tuple[bool, float]:
        """Learn ``shape``; (whether it started a new pattern, its distance to the nearest known one).

        Distances are mean absolute per-dimension distances in units of ``unit`` (the recent range).
        """
        if self._low is None or self._high is None:
            self._low, self._high = shape[None, :].copy(), shape[None, :].copy()
            self._last_seen = np.array([now])
            return False, 0.0
        norm = unit * shape.size
        outside = np.maximum(self._low - shape, 0.0) + np.maximum(shape - self._high, 0.0)
        distances = outside.sum(axis=1) / norm
        nearest = int(np.argmin(distances))
        grown_low = np.minimum(self._low[nearest], shape)
        grown_high = np.maximum(self._high[nearest], shape)
        if float((grown_high - grown_low).sum()) / norm <= self._vigilance:
            self._low[nearest], self._high[nearest] = grown_low, grown_high
            self._last_seen[nearest] = now
            return False, float(distances[nearest])
        if len(self._low) >= self._capacity:
            stalest = int(np.argmin(self._last_seen))
            self._low[stalest], self._high[stalest], self._last_seen[stalest] = shape, shape, now
        else:
            self._low = np.vstack([self._low, shape])
            self._high = np.vstack([self._high, shape])
            self._last_seen = np.append(self._last_seen, now)
        return True, float(distances[nearest])


class PatternNoveltyDetector:
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
        cfg = self.config
        self._block: list[float] = []
        self._level: float | None = None
        self._steps_for_range: deque[float] = deque(maxlen=max(2, cfg.range_points // cfg.step_points))
        self._shape: deque[float] = deque(maxlen=cfg.window_steps)
        self._patterns = _Patterns(cfg.vigilance, cfg.max_patterns)
        self._calibrator = TailCalibrator.from_config(cfg.calibration)
        self._points = 0
        self._steps = 0
        self._last_notable: int | None = None
        self._scoring_from = cfg.min_points + cfg.step_points * cfg.calibration.warmup_points

    def update(self, timestamp: float, value: float) -> AnomalyResult:
        self._points += 1
        self._block.append(value)
        probability = 1.0
        if len(self._block) == self.config.step_points:
            probability = self._end_step()
        return AnomalyResult.unbanded(
            self.name, timestamp, value, probability, self.config.calibration.full_scale_log10
        )

    def _end_step(self) -> float:
        cfg = self.config
        block, self._block = self._block, []
        mean = sum(block) / len(block)
        reference = mean if self._level is None else self._level
        extreme = max(block, key=lambda v: abs(v - reference))
        self._level = mean if self._level is None else 0.5 * (self._level + mean)
        self._steps_for_range.append(extreme)
        self._shape.append(extreme)
        self._steps += 1
        if len(self._shape) < cfg.window_steps:
            return 1.0
        low, high = min(self._steps_for_range), max(self._steps_for_range)
        unit = max(high - low, 1e-9 * max(1.0, abs(high)))
        started, distance = self._patterns.learn(
            shape_features(np.fromiter(self._shape, float, cfg.window_steps)), unit, self._steps
        )
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
