"""Default detector spans are time spans: a 1-minute series gets a day of 1-minute points for "a day"."""

from __future__ import annotations

import numpy as np
import pytest

from otel_ops.sidecar.anomaly import EnsembleConfig, EnsembleDetector, scale_to_step
from otel_ops.sidecar.anomaly.config import SeasonalConfig
from otel_ops.sidecar.anomaly.seasonal import SeasonalBaselineDetector

START = 1_700_006_400


def feed(detector: EnsembleDetector, step: float, points: int, seed: int = 0) -> list[bool]:
    rng = np.random.default_rng(seed)
    timestamps = START + np.arange(points) * step
    values = 50 + 10 * np.sin(2 * np.pi * (timestamps % 86_400) / 86_400) + rng.normal(0, 1, points)
    return [
        detector.update(t, v).is_anomaly for t, v in zip(timestamps.tolist(), values.tolist(), strict=True)
    ]


@pytest.mark.parametrize(("step", "week_of_points"), [(300.0, 2016), (60.0, 10_080), (3600.0, 168)])
def test_the_series_own_step_sets_the_spans(step: float, week_of_points: int) -> None:
    detector = EnsembleDetector()
    feed(detector, step, 40)
    spans = detector.effective_config
    assert spans.novelty is not None and spans.novelty.window_points == week_of_points
    assert spans.absence is not None and spans.absence.window_points == week_of_points
    assert spans.activity_absence is not None and spans.activity_absence.window_points == week_of_points
    assert spans.frozen is not None and spans.frozen.window_points == week_of_points
    assert spans.spike is not None  # a day of errors, in blocks of one reference step on finer series
    assert spans.spike.error_points * spans.spike.block_points == week_of_points // 7
    assert spans.refractory_points == week_of_points // 14


def test_a_live_jobs_step_is_used_before_any_point_arrives() -> None:
    detector = EnsembleDetector(step_seconds=60.0)
    assert detector.effective_config.refractory_points == 720


def test_settings_given_explicitly_are_used_as_given() -> None:
    config = EnsembleConfig.model_validate(
        {"refractory_points": 10, "spike": {"error_points": 16, "calibration": {"warmup_points": 16}}}
    )
    scaled = scale_to_step(config, 1.0)
    assert scaled.refractory_points == 10
    assert scaled.spike is not None and scaled.spike.error_points == 16
    assert scaled.spike.calibration.warmup_points == 16
    assert scaled.spike.calibration.history_points == 10_080  # left at its default: scaled, capped
    assert scaled.repeat_window_points == 10_080


def test_one_minute_series_alert_no_more_with_time_spans_than_with_five_minute_point_counts() -> None:
    # Six clean 1-minute series of 9 days (almost 8 series-weeks): a week of values instead of 1.4 days
    # (2016 points taken as 1-minute points) makes fewer values look new; false alerts stay rare.
    points, seeds = 9 * 1440, range(6)
    with_time_spans = sum(sum(feed(EnsembleDetector(), 60.0, points, seed)) for seed in seeds)
    as_points = EnsembleConfig(reference_step_seconds=60.0)  # point counts taken as 1-minute points
    with_point_counts = sum(sum(feed(EnsembleDetector(as_points), 60.0, points, seed)) for seed in seeds)
    assert with_time_spans <= with_point_counts
    assert with_time_spans <= 3


@pytest.mark.parametrize("step", [10.0, 60.0, 300.0])
def test_a_score_is_the_chance_of_such_a_point_within_a_minute(step: float) -> None:
    """A 5-minute series has a fifth of a 1-minute one's points, so for the same false alerts per week
    each of its points may be five times likelier; a 10-second series' points must be six times rarer."""
    undamped = EnsembleConfig(repeat_window_points=0, refractory_points=0)
    detector = EnsembleDetector(undamped, step_seconds=step)
    rng = np.random.default_rng(1)
    timestamps = START + np.arange(max(3000, int(3 * 86_400 / step))) * step
    values = 50 + rng.normal(0, 1, timestamps.size)
    values[-1] = 58.0  # one surprising point once the calibrations are warm
    results = [detector.update(t, v) for t, v in zip(timestamps.tolist(), values.tolist(), strict=True)]
    last = results[-1]
    assert last.tail_probability < 1e-4
    per_minute = min(1.0, last.tail_probability * 60.0 / step)
    assert last.score == pytest.approx(min(1.0, -np.log10(per_minute) / undamped.full_scale_log10))


@pytest.mark.parametrize(
    ("step", "block", "novelty_history"), [(60.0, 5, 2016), (120.0, 2, 2520), (300.0, 1, 2016)]
)
def test_histories_keep_one_entry_per_reference_step_on_finer_series(
    step: float, block: int, novelty_history: int
) -> None:
    # A week of 1-minute surprises is kept as the largest of each 5 minutes, so a 1-minute job's
    # calibration costs what a 5-minute job's does; 2-minute points go by twos over a longer history.
    spans = scale_to_step(EnsembleConfig(), step)
    assert spans.novelty is not None and spans.novelty.calibration.block_points == block
    assert spans.novelty.calibration.history_points == novelty_history
    assert spans.spike is not None and spans.spike.calibration.block_points == block
    assert spans.spike.block_points == block and spans.spike.error_points == novelty_history // 7
    assert spans.seasonal is not None and spans.seasonal.block_points == block
    assert spans.seasonal is not None and spans.seasonal.calibration.block_points == block


def test_other_settings_given_explicitly_keep_the_error_windows_in_blocks() -> None:
    """Seasonal slots or a spike's shift span set in a jobs file leave the day-long windows of errors as
    the defaults keep them on a 1-minute series (288 block medians, not 1440 points); a window whose own
    span is given is used as given, point by point."""
    config = EnsembleConfig.model_validate(
        {"seasonal": {"slot_seconds": 1800}, "spike": {"shift_points": 8, "error_points": 500}}
    )
    spans = scale_to_step(config, 60.0)
    assert spans.seasonal is not None and spans.seasonal.slot_seconds == 1800
    assert (spans.seasonal.error_points, spans.seasonal.block_points) == (288, 5)
    assert spans.seasonal.calibration.block_points == 5
    assert spans.spike is not None and (spans.spike.error_points, spans.spike.block_points) == (500, 1)
    assert spans.spike.reference_points == 1440  # its own default, scaled point by point with its window


def test_an_explicit_calibration_is_kept_point_by_point() -> None:
    config = EnsembleConfig.model_validate({"novelty": {"calibration": {"history_points": 500}}})
    spans = scale_to_step(config, 60.0)
    assert spans.novelty is not None and spans.novelty.calibration.block_points == 1
    assert spans.novelty.calibration.history_points == 500


def test_a_one_minute_seasonal_profile_learns_five_minute_medians() -> None:
    # A slot keeps one value per 5 minutes of each day (the median of its points), so a 1-minute series
    # keeps what a 5-minute one does and forecasts as well as with every point kept.
    def run(learn_seconds: float) -> tuple[list[float], int]:
        config = SeasonalConfig(
            learn_seconds=learn_seconds, periods_seconds=(86_400,), slot_seconds=900, cycles_kept=4
        )
        detector = SeasonalBaselineDetector(config)
        rng = np.random.default_rng(3)
        timestamps = START + np.arange(4 * 1440) * 60.0
        values = daily_cycle(timestamps) + rng.normal(0, 1, timestamps.size)
        expected = [
            detector.update(t, v).expected for t, v in zip(timestamps.tolist(), values.tolist(), strict=True)
        ]
        profile = detector._profiles[0]
        return [e for e in expected[-1440:] if e is not None], max(profile._sizes)

    every_point, every_point_slot = run(60.0)
    medians, medians_slot = run(300.0)
    assert every_point_slot == 4 * 15  # four days of fifteen 1-minute points per 15-minute slot
    assert medians_slot == 4 * 3  # four days of three 5-minute medians
    truth = daily_cycle(START + (3 * 1440 + np.arange(1440)) * 60.0)
    assert len(medians) == len(every_point) == 1440
    medians_error = np.median(np.abs(np.asarray(medians) - truth))
    assert medians_error <= np.median(np.abs(np.asarray(every_point) - truth)) + 0.1
    assert medians_error < 0.5  # the noise is 1


def daily_cycle(timestamps: np.ndarray) -> np.ndarray:
    return 50 + 10 * np.sin(2 * np.pi * (timestamps % 86_400) / 86_400)
