"""Value novelty: values unlike any of the past week score, however ordinary their size is for the noise."""

from __future__ import annotations

import math

import numpy as np

from otel_ops.sidecar.anomaly import (
    EnsembleConfig,
    EnsembleDetector,
    NoveltyConfig,
    SpikeLevelShiftDetector,
    ValueNoveltyDetector,
)
from tests.sidecar.anomaly_series import DAY, START, run


def daily_spikes(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """A quiet series (1 ± 0.05) with one spike to about 10 a day; the second last spike reaches 13."""
    rng = np.random.default_rng(seed)
    values = 1 + rng.normal(0, 0.05, 12 * DAY)
    spikes = np.arange(100, values.size, DAY)
    values[spikes] = 10 + rng.normal(0, 0.2, spikes.size)
    higher = int(spikes[-2])
    values[higher] = 13.0
    return values, spikes, higher


def test_a_peak_higher_than_every_earlier_one_alerts_where_the_forecast_detectors_do_not() -> None:
    values, spikes, higher = daily_spikes(3)
    ensemble = EnsembleDetector()
    scores = run(ensemble, values)
    alert = ensemble.config.alert_score
    assert scores[higher] >= alert
    assert all(scores[i] < alert for i in spikes[3:] if i != higher)  # the usual daily spikes stay quiet
    # Once three spikes have been seen, nothing else alerts (the third, on day 2, is still being learnt).
    assert max(s for i, s in enumerate(scores) if i > spikes[2] and i != higher) < alert
    # Against the usual spike-to-spike noise the higher peak is unremarkable: only novelty sees it.
    assert run(SpikeLevelShiftDetector(), values)[higher] < alert
    without_novelty = run(EnsembleDetector(EnsembleConfig(novelty=None)), values)
    assert without_novelty[higher] < alert


def bimodal(seed: int) -> tuple[np.ndarray, int]:
    """A series switching between levels 2 and 10 (noise 0.3); near the end one point sits at 6."""
    rng = np.random.default_rng(seed)
    size = 10 * DAY
    level = np.cumsum(rng.random(size) < 0.05) % 2
    values = np.where(level == 1, 10.0, 2.0) + rng.normal(0, 0.3, size)
    gap = size - 100
    values[gap] = 6.0
    return values, gap


def test_a_value_in_the_gap_of_a_bimodal_series_is_novel_and_the_switching_is_not() -> None:
    values, gap = bimodal(4)
    scores = run(ValueNoveltyDetector(), values)
    assert scores[gap] >= 0.5
    assert max(s for i, s in enumerate(scores) if i != gap) < 0.5
    assert run(SpikeLevelShiftDetector(), values)[gap] < 0.2  # between two familiar levels: no spike
    ensemble = EnsembleDetector()
    assert run(ensemble, values)[gap] >= ensemble.config.alert_score


def test_direction_limits_novelty_to_one_side_of_the_median() -> None:
    values, gap = bimodal(4)
    median = float(np.median(values[gap - 2016 : gap]))
    above = values[gap] > median
    up = run(ValueNoveltyDetector(NoveltyConfig(direction="up")), values)[gap]
    down = run(ValueNoveltyDetector(NoveltyConfig(direction="down")), values)[gap]
    assert (up, down) == ((up, 0.0) if above else (0.0, down))
    assert max(up, down) >= 0.5


def test_nothing_scores_before_min_points_values_were_seen() -> None:
    values, _, _ = daily_spikes(5)
    values[50] = 100.0  # extreme, but before a day of history
    scores = run(ValueNoveltyDetector(NoveltyConfig(min_points=DAY)), values)
    assert max(scores[:DAY]) == 0.0


def test_values_seen_before_are_not_novel_though_single_precision_cannot_hold_them() -> None:
    """The week of values is kept in single precision, and a new value is measured as it will be kept: a
    series switching between 0.1 and 0.3 (neither has an exact single-precision form) is never novel."""
    rng = np.random.default_rng(3)
    runs = rng.integers(1, 30, 2000)
    values = np.concatenate([np.full(n, (0.1, 0.3)[i % 2]) for i, n in enumerate(runs)])[: 10 * DAY]
    assert max(run(ValueNoveltyDetector(), values)) == 0.0


def test_a_record_in_a_dense_week_claims_no_more_than_its_rarity() -> None:
    """Requests per second at 1-minute points (counts / 60): nearly every value repeats one seen before,
    so a new maximum is far from the bulk's distances. The claim stays within reach of the probability
    that the series itself gives such a value (a point at the daily peak), not 1e-30 beyond it."""
    minute_day = 1440
    rng = np.random.default_rng(0)
    minutes = np.arange(9 * minute_day + minute_day // 4 + 1)
    rate = 150 + 50 * np.sin(2 * np.pi * minutes / minute_day)  # peaks at 200/s on the last point
    values = rng.poisson(rate * 60) / 60
    values[-1] = values[-1 - 7 * minute_day : -1].max() + 1.5
    detector = ValueNoveltyDetector()
    for minute, value in zip(minutes, values, strict=True):
        result = detector.update(START + 60.0 * float(minute), float(value))
    peak_sd = math.sqrt(200 * 60) / 60
    at_peak = 0.5 * math.erfc((values[-1] - 200) / peak_sd / math.sqrt(2))  # P(a peak point this high)
    assert 1e-7 < at_peak < 1e-4
    assert at_peak / 100 <= result.tail_probability < 1e-3  # still a notable value


def leak_past_its_peaks(seed: int) -> tuple[np.ndarray, int]:
    """A daily cycle (100 ± 20, noise 1) that starts to climb 0.3 per point on its last day."""
    rng = np.random.default_rng(seed)
    size = 10 * DAY
    points = np.arange(size)
    values = 100 + 20 * np.sin(2 * np.pi * points / DAY) + rng.normal(0, 1, size)
    start = size - DAY
    values[start:] += 0.3 * np.arange(size - start)
    return values, start


def test_records_that_follow_each_other_are_judged_together() -> None:
    values, start = leak_past_its_peaks(1)
    alone = run(ValueNoveltyDetector(NoveltyConfig(record_run_points=1)), values)
    together = run(ValueNoveltyDetector(), values)
    within = start + 6 * 12  # six hours of 5-minute points
    assert max(together[start:within]) >= 0.5
    assert max(alone[start:within]) < 0.5  # each record alone is a modest step past the old peaks
    assert max(together[8 * DAY : start]) < 0.5
