"""Streaming detectors on synthetic seasonal series: quiet when clean, loud on spikes and level shifts."""

from __future__ import annotations

import numpy as np
import pytest

from bench.synthetic.series import generate
from otel_ops.sidecar.anomaly import (
    AnomalyResult,
    EnsembleConfig,
    EnsembleDetector,
    ExhaustionConfig,
    SeasonalBaselineDetector,
    SpikeLevelShiftDetector,
    StreamingDetector,
)

STEP_SECONDS = 300
POINTS_PER_DAY = 86_400 // STEP_SECONDS
WARMUP = 400
ANOMALY_AT = 8 * POINTS_PER_DAY + 100


def seasonal_series(seed: int, days: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Daily sine (amplitude 10) around 50 with unit Gaussian noise, one point every 5 minutes."""
    rng = np.random.default_rng(seed)
    timestamps = 1_700_006_400 + np.arange(days * POINTS_PER_DAY, dtype=float) * STEP_SECONDS
    values = 50 + 10 * np.sin(2 * np.pi * (timestamps % 86_400) / 86_400) + rng.normal(0, 1, timestamps.size)
    return timestamps, values


def run(detector: StreamingDetector, timestamps: np.ndarray, values: np.ndarray) -> list[AnomalyResult]:
    return [detector.update(float(t), float(v)) for t, v in zip(timestamps, values, strict=True)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ensemble_stays_below_alert_on_clean_series(seed: int) -> None:
    timestamps, values = seasonal_series(seed)
    detector = EnsembleDetector()
    results = run(detector, timestamps, values)
    assert max(r.score for r in results[WARMUP:]) < detector.config.alert_score
    assert not any(r.is_anomaly for r in results)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ensemble_flags_injected_spike(seed: int) -> None:
    timestamps, values = seasonal_series(seed)
    values[ANOMALY_AT] += 15
    results = run(EnsembleDetector(), timestamps, values)
    spike = results[ANOMALY_AT]
    assert spike.score >= 0.9
    assert spike.is_anomaly
    assert spike.upper is not None and spike.value > spike.upper
    assert max(r.score for i, r in enumerate(results[WARMUP:], WARMUP) if abs(i - ANOMALY_AT) > 3) < 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ensemble_flags_level_shift_within_an_hour(seed: int) -> None:
    timestamps, values = seasonal_series(seed)
    values[ANOMALY_AT:] += 8
    results = run(EnsembleDetector(), timestamps, values)
    assert not any(r.is_anomaly for r in results[WARMUP:ANOMALY_AT])
    assert any(r.is_anomaly for r in results[ANOMALY_AT : ANOMALY_AT + 12])


def test_spike_detector_alone_flags_spike_and_not_clean_points() -> None:
    timestamps, values = seasonal_series(3)
    values[ANOMALY_AT] -= 15
    results = run(SpikeLevelShiftDetector(), timestamps, values)
    assert results[ANOMALY_AT].score > 0.5
    assert results[ANOMALY_AT].tail_probability < 1e-4
    assert np.median([r.score for r in results[WARMUP:]]) < 0.1


def test_seasonal_detector_learns_the_daily_shape_and_flags_a_missing_peak() -> None:
    timestamps, values = seasonal_series(4)
    peak_day = 8 * POINTS_PER_DAY
    peak = slice(peak_day + POINTS_PER_DAY // 8, peak_day + 3 * POINTS_PER_DAY // 8)
    values[peak] = 50 + np.random.default_rng(4).normal(0, 1, values[peak].size)  # the daily peak is missing
    detector = SeasonalBaselineDetector()
    results = run(detector, timestamps, values)
    assert detector.seasonal_active
    before = [r.score for r in results[4 * POINTS_PER_DAY : peak_day]]
    during = [r.score for r in results[peak]]
    assert max(during) > 0.5 > max(before)
    expected = results[peak.start].expected
    assert expected is not None and expected > 55  # the seasonal baseline expected the peak


def test_scores_are_bounded_and_state_is_per_instance() -> None:
    timestamps, values = seasonal_series(5, days=3)
    values[500] = 1e9
    first = run(EnsembleDetector(EnsembleConfig()), timestamps, values)
    second = run(EnsembleDetector(EnsembleConfig()), timestamps, values)
    assert all(0.0 <= r.score <= 1.0 for r in first)
    assert [r.score for r in first] == [r.score for r in second]


def test_flat_series_never_scores() -> None:
    timestamps = 1_700_000_000 + np.arange(2000, dtype=float) * 60
    results = run(EnsembleDetector(), timestamps, np.full(timestamps.size, 42.0))
    assert max(r.score for r in results) == 0.0


def test_ensemble_refractory_period_silences_a_repeat_alert() -> None:
    timestamps, values = seasonal_series(5)
    values[ANOMALY_AT] += 15
    values[ANOMALY_AT + 100] += 35  # a second, larger burst of the same incident, within half a day
    no_repeat_damping = {"repeat_window_points": 0}  # the refractory period alone
    quiet = run(EnsembleDetector(EnsembleConfig(**no_repeat_damping)), timestamps, values)
    assert quiet[ANOMALY_AT].is_anomaly
    assert not quiet[ANOMALY_AT + 100].is_anomaly
    second = quiet[ANOMALY_AT + 100]
    assert second.components["spike"] > 2 * second.score  # the undamped component still sees it
    loud = run(EnsembleDetector(EnsembleConfig(refractory_points=0, **no_repeat_damping)), timestamps, values)
    assert loud[ANOMALY_AT].is_anomaly and loud[ANOMALY_AT + 100].is_anomaly


def test_a_worse_incident_during_the_refractory_period_still_alerts() -> None:
    timestamps, values = seasonal_series(5)
    values[ANOMALY_AT] += 7  # a blip that alerts
    outage = ANOMALY_AT + 72  # six hours later the series drops to zero for an hour
    values[outage : outage + 12] = 0.0
    results = run(EnsembleDetector(EnsembleConfig(repeat_window_points=0)), timestamps, values)
    assert results[ANOMALY_AT].is_anomaly
    assert results[outage].score > results[ANOMALY_AT].score
    assert results[outage].is_anomaly
    assert not any(r.is_anomaly for r in results[outage + 1 : outage + 12])  # the outage alerts once


def alerts_before_and_at_a_traffic_drop(
    seed: int,
    before_seconds: float,
    config: EnsembleConfig | None = None,
    false_alert_probability: float | None = None,
) -> tuple[list[AnomalyResult], list[AnomalyResult]]:
    """The alerts of a fresh ensemble in the ``before_seconds`` before traffic drops to zero (synthetic
    ``traffic_drop`` of ``seed``, 1-minute points), and its results for the first five minutes of the drop.

    ``false_alert_probability``: value novelty claims this probability for the first point of that span
    (a false alert on an ordinary value), everything else is as the detectors see it."""
    series = generate("traffic_drop", seed)
    assert series.anomaly is not None
    onset = series.anomaly[0]
    detector = EnsembleDetector(config, step_seconds=series.step_seconds)
    if false_alert_probability is not None:
        novelty = detector.novelty
        assert novelty is not None
        at = float(series.timestamps[np.searchsorted(series.timestamps, onset - before_seconds)])
        scored = novelty.probability

        def claiming(timestamp: float, value: float) -> float:
            probability = scored(timestamp, value)
            return false_alert_probability if timestamp == at else probability

        novelty.probability = claiming  # type: ignore[method-assign]
    pairs = zip(series.timestamps.tolist(), series.values.tolist(), strict=True)
    results = [detector.update(t, v) for t, v in pairs]
    before = [r for r in results if r.is_anomaly and onset - before_seconds <= r.timestamp < onset]
    return before, [r for r in results if onset <= r.timestamp < onset + 300]


@pytest.mark.parametrize("alert_score", [0.5, 0.7])
def test_an_outage_right_after_an_alert_at_the_capped_score_still_alerts(alert_score: float) -> None:
    # Requests per second with a daily cycle: 58 minutes before traffic drops to zero, an ordinary value
    # alerts at the capped score of 1.0 (p = 5e-10). The outage (p = 1e-100) cannot score higher than 1.0,
    # but its evidence is over ten times stronger: neither a repeat nor an aftermath, whatever the alert
    # score.
    config = EnsembleConfig(alert_score=alert_score)
    [blip], outage = alerts_before_and_at_a_traffic_drop(
        41, before_seconds=58 * 60, config=config, false_alert_probability=5e-10
    )
    assert blip.score == 1.0
    assert outage[0].is_anomaly and outage[0].score >= alert_score
    assert not any(r.is_anomaly for r in outage[1:])  # and it alerts once
    # as a new incident: a live job sends it as a new alert, not as a refresh of the blip's
    assert blip.incident_start == blip.timestamp
    assert outage[0].incident_start == outage[0].timestamp


def test_an_outage_after_an_alert_beyond_every_probability_a_score_shows_still_alerts() -> None:
    # 9.5 hours before traffic drops to zero, an ordinary value alerts with a probability far below what
    # the score can show (1e-8 scores 1.0). Evidence keeps counting past that, so the outage is compared
    # with that alert's own evidence, not with a floor both of them hit.
    [blip], outage = alerts_before_and_at_a_traffic_drop(
        79, before_seconds=9.5 * 3600, false_alert_probability=1e-40
    )
    assert blip.score == 1.0 and blip.tail_probability < 1e-12
    assert outage[0].is_anomaly
    assert outage[0].tail_probability < blip.tail_probability * 1e-10  # over ten decades stronger
    assert outage[0].incident_start == outage[0].timestamp != blip.incident_start


def test_an_error_spike_that_grows_ten_times_stronger_is_still_one_incident() -> None:
    # The error rate jumps: the first point alerts at p = 3e-6, three minutes later the spike/shift
    # detector is sure (p = 1e-13). Evidence over ten times stronger, but on the same side of the expected
    # value: the incident getting worse, not a new one (an outage right after a false high is the other
    # side).
    series = generate("error_rate_spike", 97)
    assert series.anomaly is not None
    onset = series.anomaly[0]
    detector = EnsembleDetector(step_seconds=series.step_seconds)
    pairs = zip(series.timestamps.tolist(), series.values.tolist(), strict=True)
    results = [detector.update(t, v) for t, v in pairs]
    first, *later = [r for r in results if r.is_anomaly and onset <= r.timestamp < onset + 600]
    assert first.timestamp == onset
    assert min(r.tail_probability for r in later) < first.tail_probability / 10
    assert {r.incident_start for r in [first, *later]} == {first.timestamp}


def test_a_leak_alerts_once_as_it_starts_and_its_forecast_is_one_more_alert() -> None:
    # Memory with a daily cycle starts leaking towards its limit, its first values just above the week's
    # maximum: the leak alerts 8 minutes in, nothing before it, and points of the same incident (one alert
    # in Alertmanager) as it grows; the exhaustion forecast fires point after point from 3.6 hours in until
    # the limit, one incident however long it fires.
    series = generate("memory_leak", 104)
    assert series.anomaly is not None and series.limit is not None
    onset, end = series.anomaly
    config = EnsembleConfig(exhaustion=ExhaustionConfig(limit=series.limit))
    detector = EnsembleDetector(config, step_seconds=series.step_seconds)
    pairs = zip(series.timestamps.tolist(), series.values.tolist(), strict=True)
    alerts = [r for r in (detector.update(t, v) for t, v in pairs) if r.is_anomaly and r.timestamp < end]
    leak, *worse = [r for r in alerts if onset - 3600 <= r.timestamp < onset + 3600]
    assert onset <= leak.timestamp <= onset + 15 * 60 and leak.incident_start == leak.timestamp
    assert all(r.incident_start == leak.timestamp for r in worse)  # the same alert, refreshed
    forecast = [r for r in alerts if r.timestamp > onset + 3600]
    assert len(forecast) > 100 and all(r.components["exhaustion"] >= 0.5 for r in forecast)
    assert {r.incident_start for r in forecast} == {forecast[0].timestamp}


def test_a_daily_step_the_seasonal_baseline_expects_is_no_spike() -> None:
    """Load that steps up at 08:00 and down at 18:00 every day: the fast detector sees jumps, the seasonal
    baseline expects them, and while it is the forecast that fits, the jumps do not raise the score."""
    rng = np.random.default_rng(0)
    t = np.arange(10 * POINTS_PER_DAY)
    phase = t % POINTS_PER_DAY
    values = np.where((phase >= 96) & (phase < 216), 30.0, 10.0) + rng.normal(0, 1, t.size)
    timestamps = 1_700_006_400 + t * float(STEP_SECONDS)
    results = run(EnsembleDetector(), timestamps, values)
    steps = [i for i in range(5 * POINTS_PER_DAY, t.size) if phase[i] in (96, 216)]
    assert min(results[i].components["spike"] for i in steps) > 0.15  # the fast detector alone is surprised
    # The seasonal baseline expects the steps: the score stays under half of the fast detector's surprise.
    assert max(results[i].score for i in steps) < 0.5 * min(results[i].components["spike"] for i in steps)
