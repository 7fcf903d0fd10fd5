"""Pattern novelty: a change of behaviour that no single value shows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from otel_ops.sidecar.anomaly import (
    EnsembleConfig,
    EnsembleDetector,
    PatternConfig,
    PatternNoveltyDetector,
)
from otel_ops.sidecar.anomaly.pattern import _Patterns, pairwise_sum, shape_features
from tests.sidecar.anomaly_series import DAY, run

CHANGE = 8 * DAY


def dips(seed: int) -> np.ndarray:
    """Level 10 (noise 0.2) dipping to 5 once every 6 hours; from day 8, for 3 hours, every 15 minutes."""
    rng = np.random.default_rng(seed)
    values = 10 + rng.normal(0, 0.2, 10 * DAY)
    usual = np.arange(37, values.size, 72)
    values[usual] = 5 + rng.normal(0, 0.2, usual.size)
    dense = np.arange(CHANGE, CHANGE + 36, 3)
    values[dense] = 5 + rng.normal(0, 0.2, dense.size)
    return values


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_dips_that_come_four_times_an_hour_instead_of_once_in_six_alert(seed: int) -> None:
    values = dips(seed)
    ensemble = EnsembleDetector()
    scores = run(ensemble, values)
    alert = ensemble.config.alert_score
    assert max(scores[CHANGE : CHANGE + 36]) >= alert
    assert max(scores[2 * DAY : CHANGE]) < alert  # the usual dips, once learned, stay quiet
    # Every value is familiar (10 or 5) and each dip alone is ordinary: without pattern novelty, silence.
    without = run(EnsembleDetector(EnsembleConfig(pattern=None)), values)
    assert max(without[CHANGE : CHANGE + 36]) < alert


def test_a_repeating_shape_stops_being_new() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(10 * DAY)
    values = 50 + 20 * (t % 48 < 12) + rng.normal(0, 1, t.size)  # a 1-hour burst every 4 hours
    scores = run(PatternNoveltyDetector(), values)
    assert max(scores[3 * DAY :]) < 0.5


def test_nothing_counts_before_min_points() -> None:
    values = dips(1)
    values[: DAY // 2] = np.linspace(0, 100, DAY // 2)  # a ramp never seen again, during the first day
    scores = run(PatternNoveltyDetector(PatternConfig(min_points=DAY)), values)
    assert max(scores[:DAY]) == 0.0


def test_shape_features_tell_a_step_from_a_ramp_and_a_burst() -> None:
    step = np.array(shape_features([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]))
    ramp = np.array(shape_features(np.linspace(0.0, 1.0, 8).tolist()))
    burst = np.array(shape_features([0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0]))
    flat = np.array(shape_features([3.0] * 8))
    assert step.size == ramp.size == 8 + 7  # the levels and their 7 Haar details
    assert np.allclose(flat[8:], 0.0) and np.allclose(flat[:8], 3.0)
    assert np.abs(step - ramp).sum() > 0.5 and np.abs(step - burst).sum() > 0.5
    # Equal means, different shapes: the details tell them apart.
    assert np.isclose(step[:8].mean(), 0.5) and not np.allclose(step[8:], burst[8:])
    # The coarsest detail is the difference of the two halves' means, scaled to keep the norm.
    assert step[8] == pytest.approx(math.sqrt(8) * 0.5)


def _outside(low: list[float], high: list[float], shape: list[float]) -> float:
    return sum(max(lo - x, 0.0) + max(x - hi, 0.0) for lo, hi, x in zip(low, high, shape, strict=True))


@pytest.mark.parametrize("seed", range(6))
def test_the_nearest_pattern_is_the_one_measuring_every_box_finds(seed: int) -> None:
    """The search skips boxes by a bound; it must find the box (the first of equals) that measuring
    every box finds, at the same distance, among overlapping boxes, repeated shapes and large values.
    Shapes are kept in single precision: the reference measures them as such, in double precision."""
    rng = np.random.default_rng(seed)
    offset = [0.0, 1e6][seed % 2]
    patterns = _Patterns(vigilance=0.05 * (1 + seed % 3), capacity=64)
    boxes: list[tuple[list[float], list[float]]] = []  # the reference: every box, measured in full
    last_seen: list[int] = []
    centres = rng.normal(offset, 10.0, (12, 15))
    for now in range(1500):
        drawn = centres[rng.integers(12)] + rng.normal(0.0, rng.choice([0.0, 0.5, 3.0]), 15)
        shape = drawn.astype(np.float32).astype(float).tolist()
        unit = 40.0
        if not boxes:
            expected = (False, 0.0)
            boxes.append((shape, shape))
            last_seen.append(now)
        else:
            distances = [_outside(low, high, shape) / (unit * 15) for low, high in boxes]
            nearest = min(range(len(boxes)), key=lambda i: (distances[i], i))
            low = [min(a, x) for a, x in zip(boxes[nearest][0], shape, strict=True)]
            high = [max(a, x) for a, x in zip(boxes[nearest][1], shape, strict=True)]
            if sum(h - lo for lo, h in zip(low, high, strict=True)) / (unit * 15) <= patterns._vigilance:
                boxes[nearest] = (low, high)
                last_seen[nearest] = now
                expected = (False, distances[nearest])
            else:
                if len(boxes) < 64:
                    boxes.append((shape, shape))
                    last_seen.append(now)
                else:
                    stalest = last_seen.index(min(last_seen))
                    boxes[stalest] = (shape, shape)
                    last_seen[stalest] = now
                expected = (True, distances[nearest])
        started, distance = patterns.learn(drawn.tolist(), unit, now)
        assert started == expected[0]
        assert distance == pytest.approx(expected[1], rel=1e-12, abs=1e-15)
    assert len(patterns) == 64  # the capacity was reached: boxes were replaced too


def test_a_shape_beyond_single_precision_is_learnt_at_its_largest_value() -> None:
    """Shapes are kept in single precision; a value beyond its range (1e39) is kept as the largest one
    instead of failing or becoming infinite, and it is as far from the usual shapes as it can be."""
    patterns = _Patterns(vigilance=0.1, capacity=8)
    for now in range(20):
        patterns.learn([1.0 + (now % 2)] * 15, 1.0, now)
    started, distance = patterns.learn([1e39] * 8 + [0.0] * 7, 1.0, 20)
    assert started and math.isfinite(distance) and distance > 1e37
    assert patterns.learn([-1e39] * 8 + [0.0] * 7, 1.0, 21)[0]


def test_a_steady_daily_cycle_never_alerts_from_the_start() -> None:
    """Everything is new on the first day; the first patterns after it are learned before they score."""
    rng = np.random.default_rng(11)
    t = np.arange(6 * DAY)
    values = 50 + 10 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1, t.size)
    scores = run(PatternNoveltyDetector(), values)
    assert max(scores) < 0.5


def test_distances_are_summed_as_numpy_sums() -> None:
    """Distances add up in numpy's pairwise order, to the last bit: scores do not move with the
    library that sums them."""
    rng = np.random.default_rng(3)
    for n in [*range(1, 40), 127, 128, 129, 300]:
        values = rng.normal(0.0, 1.0, n) * 10.0 ** rng.uniform(-6, 6, n)
        assert pairwise_sum(values.tolist()) == float(values.sum())
