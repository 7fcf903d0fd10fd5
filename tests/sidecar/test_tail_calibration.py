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
    # The history's own step of 0.003 says "rare": almost five of its steps beyond its largest value.
    assert calibrator.tail_probability(a_hair_above) <= 1e-3
    assert calibrator.tail_probability(a_hair_above, resolution=0.025) > 0.5 / 64  # about one in the history
    # what lies many resolutions beyond the history stays rare
    assert calibrator.tail_probability(far_above, resolution=0.025) < 1e-5


def block_log10_error(block: int, seed: int, true_probability: float) -> float:
    """As :func:`log10_error` (exponential surprises), for 10 000 points kept in blocks of ``block``."""
    calibrator = TailCalibrator(10_000 // block, warmup_points=100, block_points=block)
    for surprise in pareto_quantile(0.0, np.random.default_rng(seed).random(10_000)):
        calibrator.observe(float(surprise))
    value = float(pareto_quantile(0.0, true_probability))
    return math.log10(calibrator.tail_probability(value) / true_probability)


@pytest.mark.parametrize("true_probability", [1e-2, 1e-4, 1e-6])
def test_a_history_of_block_maxima_estimates_one_points_rarity(true_probability: float) -> None:
    # A fifth of the memory: the largest of each block of five points. The probability given is still one
    # point's, as close to the truth as with every point kept.
    every_point = statistics.median(block_log10_error(1, seed, true_probability) for seed in SEEDS)
    blocks = statistics.median(block_log10_error(5, seed, true_probability) for seed in SEEDS)
    assert abs(blocks) <= 0.5
    assert abs(blocks) <= abs(every_point) + 0.1, (blocks, every_point)


def test_a_block_enters_the_history_when_it_is_complete() -> None:
    calibrator = TailCalibrator(64, warmup_points=16, block_points=4)
    for surprise in range(4 * 16 - 1):
        calibrator.observe(float(surprise % 4))  # every block's largest is 3
    assert not calibrator.ready
    calibrator.observe(3.0)
    assert calibrator.ready
    # Every block reached 3: a block's chance is (16 + 1) / 17, and so is one point's.
    assert calibrator.tail_probability(3.0) == 1.0
    # Half the blocks above 2: one point's chance of it is 1 - (1 - 1/2) ** (1/4) for equal blocks.
    calibrator = TailCalibrator(64, warmup_points=16, block_points=4)
    for block in range(32):
        for _ in range(4):
            calibrator.observe(5.0 if block % 2 else 1.0)
    expected_block = 17 / 33  # (at least + 1) / (n + 1): 16 of 32 blocks reach 5
    assert calibrator.tail_probability(5.0) == pytest.approx(1 - (1 - expected_block) ** 0.25)


def test_surprises_that_come_in_runs_are_not_taken_for_independent_points() -> None:
    # A level shift keeps the surprise high for several points in a row: here every surprise lasts 5
    # points. Blocks of 5 then see about one large value per run, not five; the probability given for a
    # point must stay that of a history of every point, not a fifth of it.
    rng = np.random.default_rng(7)
    surprises = np.repeat(pareto_quantile(0.0, rng.random(4_000)), 5)[3:]  # runs straddle the blocks
    every_point = TailCalibrator(20_000, warmup_points=100)
    blocks = TailCalibrator(4_000, warmup_points=100, block_points=5)
    for surprise in surprises.tolist():
        every_point.observe(surprise)
        blocks.observe(surprise)
    assert blocks.extremal_index < 0.4
    for value in (4.0, 6.0, 9.0):  # about 1 in 50, 400 and 8000 runs
        ratio = blocks.tail_probability(value) / every_point.tail_probability(value)
        assert abs(math.log10(ratio)) <= 0.3, (value, ratio)
