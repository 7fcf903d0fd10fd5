"""Frozen value: a gauge stuck at one value is noticed; series that often repeat values are not judged."""

from __future__ import annotations

import numpy as np
import pytest

from otel_ops.sidecar.anomaly import EnsembleConfig, EnsembleDetector, FrozenConfig, FrozenValueDetector
from tests.sidecar.anomaly_series import DAY, STEP_SECONDS, run

FREEZE = 8 * DAY
HOUR = 3600 // STEP_SECONDS


def cpu_gauge(seed: int, freeze_points: int = 0) -> np.ndarray:
    """A CPU gauge with a daily cycle and noise, frozen at its last value for ``freeze_points`` points."""
    rng = np.random.default_rng(seed)
    t = np.arange(10 * DAY)
    values = 50 + 20 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 3, t.size)
    values[FREEZE : FREEZE + freeze_points] = values[FREEZE - 1]
    return values


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_frozen_gauge_alerts_within_an_hour(seed: int) -> None:
    values = cpu_gauge(seed, freeze_points=6 * HOUR)
    frozen = run(FrozenValueDetector(), values)
    assert max(frozen[:FREEZE]) == 0.0  # a gauge that never repeats a value: nothing to judge
    assert max(frozen[FREEZE : FREEZE + HOUR]) >= 0.5
    ensemble = EnsembleDetector()
    alerts = [r.is_anomaly for r in map(ensemble.update, *_points(values))]
    assert any(alerts[FREEZE : FREEZE + HOUR])
    assert not any(alerts[2 * DAY : FREEZE])


def test_without_the_frozen_detector_a_frozen_gauge_goes_unnoticed_for_the_first_hour() -> None:
    values = cpu_gauge(0, freeze_points=6 * HOUR)
    ensemble = EnsembleDetector(EnsembleConfig(frozen=None))
    alerts = [r.is_anomaly for r in map(ensemble.update, *_points(values))]
    assert not any(alerts[FREEZE : FREEZE + HOUR])
    assert "frozen" not in ensemble.update(float(10 * DAY * STEP_SECONDS), 1.0).components


@pytest.mark.parametrize("hours_before", [4, 9])
def test_a_gauge_that_freezes_hours_after_an_alert_alerts_as_soon_as_without_it(hours_before: int) -> None:
    """A spike opens an incident; the gauge that freezes hours later is no aftermath of it."""
    values = cpu_gauge(0, freeze_points=6 * HOUR)
    spiked = values.copy()
    spiked[FREEZE - hours_before * HOUR] += 60  # 20 sigma: alerts at the strongest score
    quiet = list(map(EnsembleDetector().update, *_points(values)))
    results = list(map(EnsembleDetector().update, *_points(spiked)))
    first_quiet = [r.is_anomaly for r in quiet].index(True, FREEZE)
    assert first_quiet < FREEZE + HOUR
    spike = results[FREEZE - hours_before * HOUR]
    # The spike alerts, stronger than the frozen run when it first alerts: damped as its aftermath, the
    # run would stay quiet.
    assert spike.is_anomaly
    assert spike.score > quiet[first_quiet].score
    # The frozen run alerts on the same points as without the spike, as one incident of its own.
    freeze_alerts = [i for i, r in enumerate(results[FREEZE : FREEZE + 6 * HOUR], FREEZE) if r.is_anomaly]
    assert freeze_alerts == [
        i for i, r in enumerate(quiet[FREEZE : FREEZE + 6 * HOUR], FREEZE) if r.is_anomaly
    ]
    assert {results[i].incident_start for i in freeze_alerts} == {results[first_quiet].timestamp}


def test_a_flat_line_and_a_counter_mostly_at_zero_are_never_judged() -> None:
    rng = np.random.default_rng(0)
    flat = np.full(10 * DAY, 7.0)
    flat[5 * DAY : 5 * DAY + 3] = 8.0  # a blip, then flat again for days
    counter = rng.poisson(0.2, 10 * DAY).astype(float)
    assert max(run(FrozenValueDetector(), flat)) == 0.0
    assert max(run(FrozenValueDetector(), counter)) == 0.0


def test_runs_as_long_as_the_series_own_are_ordinary_and_far_longer_ones_are_not() -> None:
    # Rounded to whole percent, the gauge repeats values now and then; each night it sits at 0 for an hour.
    rng = np.random.default_rng(3)
    t = np.arange(10 * DAY)
    values = np.round(50 + 20 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 3, t.size))
    night = (t % DAY) < HOUR
    values[night] = 0.0
    detector_scores = run(FrozenValueDetector(), values)
    assert max(detector_scores[2 * DAY :]) < 0.45  # the nightly hour and the rounding repeats: no alert

    stuck = values.copy()
    stuck[FREEZE : FREEZE + 8 * HOUR] = 0.0  # the night's zero lasts eight hours instead of one
    stuck_scores = run(FrozenValueDetector(), stuck)
    assert max(stuck_scores[FREEZE : FREEZE + HOUR]) < 0.45
    assert max(stuck_scores[FREEZE : FREEZE + 8 * HOUR]) >= 0.5


def test_a_series_repeating_more_than_max_repeat_share_is_not_judged() -> None:
    values = cpu_gauge(1, freeze_points=6 * HOUR)  # 72 repeats in a week of 2016 points: 3.6 %
    default = run(FrozenValueDetector(), values)
    strict = run(FrozenValueDetector(FrozenConfig(max_repeat_share=0.01)), values)
    assert min(default[FREEZE + 2 * HOUR : FREEZE + 6 * HOUR]) >= 0.9
    assert max(strict[FREEZE + 2 * HOUR : FREEZE + 6 * HOUR]) == 0.0


def _points(values: np.ndarray) -> tuple[list[float], list[float]]:
    timestamps = 1_700_006_400 + np.arange(values.size, dtype=float) * STEP_SECONDS
    return timestamps.tolist(), values.tolist()
