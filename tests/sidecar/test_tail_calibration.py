"""Tail calibration: a surprise's estimated rarity matches its true rarity."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from otel_ops.sidecar.anomaly.tail_calibration import TailCalibrator

HISTORY = 2000
SEEDS = range(8)


def pareto_quantile(shape: float, survival: float | np.ndarray) -> float | np.ndarray:
    """Value exceeded with probability ``survival`` under a generalised Pareto law (scale 1)."""
    if shape == 0.0:
        return -np.log(survival)
    return (np.power(survival, -shape) - 1.0) / shape


def log10_error(shape: float, seed: int, true_probability: float) -> float:
    """log10(estimated / true) tail probability of the value with that true tail probability."""
    calibrator = TailCalibrator(HISTORY, warmup_points=100)
    draws = np.random.default_rng(seed).random(HISTORY)
    for surprise in pareto_quantile(shape, draws):
        calibrator.observe(float(surprise))
    value = float(pareto_quantile(shape, true_probability))
    return math.log10(calibrator.tail_probability(value) / true_probability)


def test_rarity_beyond_every_value_seen_is_estimated_within_half_a_decade() -> None:
    # 1e-4 lies beyond the 2000 surprises seen (expected 0.2 of them above it): only the fitted tail
    # can say how rare it is.
    errors = [log10_error(0.0, seed, 1e-4) for seed in SEEDS]
    assert abs(statistics.median(errors)) <= 0.5, errors


def test_inside_the_history_the_observed_frequency_is_used() -> None:
    calibrator = TailCalibrator(HISTORY, warmup_points=100)
    for surprise in range(HISTORY):
        calibrator.observe(float(surprise))
    assert calibrator.tail_probability(1000.0) == pytest.approx(1001 / 2001)
    # beyond the tail base, never rarer than the share of the history at least as large
    assert calibrator.tail_probability(1990.0) >= 10 / 2001


def test_no_probability_before_warm_up() -> None:
    calibrator = TailCalibrator(HISTORY, warmup_points=100)
    for surprise in range(99):
        calibrator.observe(float(surprise))
    assert calibrator.tail_probability(1e9) == 1.0
    calibrator.observe(99.0)
    assert calibrator.tail_probability(1e9) < 1e-6


def test_a_resolution_keeps_a_hair_above_identical_surprises_from_looking_impossible() -> None:
    # Silences of a job that runs like clockwork: every surprise within a few thousandths of 0.41.
    calibrator = TailCalibrator(64, warmup_points=16)
    for index in range(64):
        calibrator.observe(0.41 + 0.003 * (index % 3))
    a_hair_above, far_above = 0.43, 0.77
    assert calibrator.tail_probability(a_hair_above) <= 1e-12  # the spread of 0.003 says "impossible"
    assert calibrator.tail_probability(a_hair_above, resolution=0.025) > 0.5 / 64  # about one in the history
    # what lies many resolutions beyond the history stays rare
    assert calibrator.tail_probability(far_above, resolution=0.025) < 1e-5
