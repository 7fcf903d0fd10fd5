"""Pattern novelty: a change of behaviour that no single value shows."""

from __future__ import annotations

import numpy as np
import pytest

from otel_ops.sidecar.anomaly import (
    EnsembleConfig,
    EnsembleDetector,
    PatternConfig,
    PatternNoveltyDetector,
)
from otel_ops.sidecar.anomaly.pattern import shape_features
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
    step = shape_features(np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]))
    ramp = shape_features(np.linspace(0.0, 1.0, 8))
    burst = shape_features(np.array([0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0]))
    flat = shape_features(np.full(8, 3.0))
    assert step.size == ramp.size == 8 + 7  # the levels and their 7 Haar details
    assert np.allclose(flat[8:], 0.0) and np.allclose(flat[:8], 3.0)
    assert np.abs(step - ramp).sum() > 0.5 and np.abs(step - burst).sum() > 0.5
    # Equal means, different shapes: the details tell them apart.
    assert np.isclose(step[:8].mean(), 0.5) and not np.allclose(step[8:], burst[8:])


def test_a_steady_daily_cycle_never_alerts_from_the_start() -> None:
    """Everything is new on the first day; the first patterns after it are learned before they score."""
    rng = np.random.default_rng(11)
    t = np.arange(6 * DAY)
    values = 50 + 10 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1, t.size)
    scores = run(PatternNoveltyDetector(), values)
    assert max(scores) < 0.5
