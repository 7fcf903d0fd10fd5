"""Value novelty: values unlike any of the past week score, however ordinary their size is for the noise."""

from __future__ import annotations

import numpy as np

from otel_ops.sidecar.anomaly import (
    EnsembleConfig,
    EnsembleDetector,
    NoveltyConfig,
    SpikeLevelShiftDetector,
    ValueNoveltyDetector,
)
from tests.sidecar.anomaly_series import DAY, run


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
