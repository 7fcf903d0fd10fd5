"""Exhaustion forecast: predict_linear with guards."""

from __future__ import annotations

import numpy as np
import pytest

from otel_ops.sidecar.anomaly import EnsembleConfig, EnsembleDetector, ExhaustionConfig, ExhaustionForecaster

STEP = 60.0


def test_linear_ramp_predicts_crossing_time() -> None:
    # Rises 1 unit per minute from 100 towards a limit of 1000, with a little noise.
    rng = np.random.default_rng(7)
    forecaster = ExhaustionForecaster(ExhaustionConfig(limit=1000.0, horizon_seconds=4 * 3600))
    result = None
    for i in range(600):
        result = forecaster.update(i * STEP, 100.0 + i + rng.normal(0, 0.5))
    assert result is not None and result.time_to_exhaustion_seconds is not None
    true_remaining = (1000.0 - (100.0 + 599)) * STEP  # 301 minutes
    assert result.time_to_exhaustion_seconds == pytest.approx(true_remaining, rel=0.05)
    assert not result.is_anomaly  # 5 hours away, horizon 4 hours
    assert 0.4 < result.score < 0.5


def test_alerts_once_crossing_is_within_horizon() -> None:
    forecaster = ExhaustionForecaster(ExhaustionConfig(limit=1000.0, horizon_seconds=3600))
    results = [forecaster.update(i * STEP, 500.0 + i) for i in range(480)]
    first_alert = next(i for i, r in enumerate(results) if r.is_anomaly)
    # At minute i the value is 500 + i, so the limit is an hour away from minute 440.
    assert 438 <= first_alert <= 442
    assert results[-1].score > 0.5


def test_falling_series_towards_zero() -> None:
    forecaster = ExhaustionForecaster(ExhaustionConfig(limit=0.0, direction="down"))
    result = None
    for i in range(300):
        result = forecaster.update(i * STEP, 1000.0 - 2 * i)
    assert result is not None and result.time_to_exhaustion_seconds is not None
    assert result.time_to_exhaustion_seconds == pytest.approx((1000.0 - 2 * 299) / 2 * STEP, rel=0.01)


@pytest.mark.parametrize("noise", [0.0, 1.0])
def test_flat_series_gives_no_forecast(noise: float) -> None:
    rng = np.random.default_rng(1)
    forecaster = ExhaustionForecaster(ExhaustionConfig(limit=100.0))
    results = [forecaster.update(i * STEP, 50.0 + noise * rng.normal()) for i in range(1000)]
    assert all(r.time_to_exhaustion_seconds is None for r in results)
    assert all(r.score == 0.0 and not r.is_anomaly for r in results)


def test_not_enough_history_gives_no_forecast() -> None:
    forecaster = ExhaustionForecaster(ExhaustionConfig(limit=1000.0, window_seconds=6 * 3600))
    results = [forecaster.update(i * STEP, 900.0 + i) for i in range(60)]  # 1 hour of a 6-hour window
    assert all(r.time_to_exhaustion_seconds is None for r in results)


def test_already_over_the_limit_is_exhausted_now() -> None:
    result = ExhaustionForecaster(ExhaustionConfig(limit=10.0)).update(0.0, 11.0)
    assert result.time_to_exhaustion_seconds == 0.0
    assert result.score == 1.0 and result.is_anomaly


def test_ensemble_reports_exhaustion() -> None:
    detector = EnsembleDetector(
        EnsembleConfig(exhaustion=ExhaustionConfig(limit=1000.0, horizon_seconds=3600))
    )
    results = [detector.update(i * STEP, 500.0 + i) for i in range(480)]
    assert results[-1].is_anomaly
    assert results[-1].time_to_exhaustion_seconds == pytest.approx(20 * STEP, rel=0.05)
    assert results[-1].components["exhaustion"] > 0.5
