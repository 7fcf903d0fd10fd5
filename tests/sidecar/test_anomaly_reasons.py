"""Why a point scored high, in words: the strongest component names its detector's kind of evidence."""

from __future__ import annotations

import pytest

from otel_ops.sidecar.anomaly import AnomalyResult, EnsembleConfig, EnsembleDetector, ExhaustionConfig
from otel_ops.sidecar.anomaly.reasons import DETECTOR_REASONS, describe, human_duration, strongest_component
from tests.sidecar.anomaly_series import STEP_SECONDS
from tests.sidecar.test_anomaly_frozen import FREEZE, HOUR, _points, cpu_gauge


def test_every_component_the_ensemble_reports_has_a_reason() -> None:
    detector = EnsembleDetector(EnsembleConfig(exhaustion=ExhaustionConfig(limit=100.0)))
    result = detector.update(1_700_000_000.0, 1.0)
    for _ in range(40):  # past the step sample: every component is reported from then on
        result = detector.update(result.timestamp + STEP_SECONDS, 1.0)
    assert set(result.components) == set(DETECTOR_REASONS)


def test_the_strongest_component_is_the_highest_scored_and_none_without_any() -> None:
    result = AnomalyResult(0.0, 1.0, 0.9, components={"spike": 0.2, "novelty": 0.9, "pattern": 0.9})
    assert strongest_component(result) == "novelty"  # the first of equals
    assert describe(result) == "value novelty: a value unlike any of the past week"
    quiet = AnomalyResult(0.0, 1.0, 0.0, components={"spike": 0.0, "novelty": 0.0})
    assert strongest_component(quiet) is None and describe(quiet) is None


def test_an_exhaustion_forecast_says_when() -> None:
    result = AnomalyResult(
        0.0, 1.0, 0.8, time_to_exhaustion_seconds=5400.0, components={"spike": 0.1, "exhaustion": 0.8}
    )
    assert describe(result) == "exhaustion forecast: on course to reach its limit in 1.5 hours"


@pytest.mark.parametrize(
    ("seconds", "text"), [(30, "30 seconds"), (60, "1 minute"), (5400, "1.5 hours"), (216_000, "2.5 days")]
)
def test_durations_read_in_their_largest_unit(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_a_spike_and_a_frozen_gauge_are_told_apart() -> None:
    values = cpu_gauge(0, freeze_points=6 * HOUR)
    values[FREEZE - 4 * HOUR] += 60
    results = list(map(EnsembleDetector().update, *_points(values)))
    assert strongest_component(results[FREEZE - 4 * HOUR]) == "spike"
    first_frozen_alert = next(r for r in results[FREEZE:] if r.is_anomaly)
    assert strongest_component(first_frozen_alert) == "frozen"
