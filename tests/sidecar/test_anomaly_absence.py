"""Absence: recurring bursts that stop coming are noticed, on bursty series only."""

from __future__ import annotations

import numpy as np
import pytest

from bench.synthetic.series import SyntheticSeries, generate
from otel_ops.sidecar.anomaly import (
    AbsenceConfig,
    BurstAbsenceDetector,
    EnsembleConfig,
    EnsembleDetector,
    ValueNoveltyDetector,
)
from otel_ops.sidecar.anomaly.absence import otsu_split, within_burst_gap
from tests.sidecar.anomaly_series import DAY, run

STOP = 9 * DAY


def batch_bursts(seed: int, stop: int | None = STOP) -> np.ndarray:
    """Quiet (|noise| 0.3) with a burst to about 50, 15-35 minutes long, every 3 hours (± 20 min)."""
    rng = np.random.default_rng(seed)
    values = np.abs(rng.normal(0, 0.3, 12 * DAY))
    starts = np.arange(20, values.size, 36)
    for start in starts + rng.integers(-4, 5, size=starts.size):
        if stop is not None and start >= stop:
            break
        length = int(rng.integers(3, 7))
        values[start : start + length] = 50 + rng.normal(0, 5, values[start : start + length].size)
    return values


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_bursts_that_stop_coming_alert_within_hours(seed: int) -> None:
    values = batch_bursts(seed)
    absence = run(BurstAbsenceDetector(), values)
    assert max(absence[3 * DAY : STOP]) < 0.35  # the usual gaps between bursts are not surprising
    assert max(absence[STOP : STOP + DAY // 2]) >= 0.9
    ensemble = EnsembleDetector()
    alert = ensemble.config.alert_score
    assert max(run(ensemble, values)[STOP : STOP + DAY // 2]) >= alert
    # No value is unusual when nothing happens: without the absence detectors, silence.
    without = run(EnsembleDetector(EnsembleConfig(absence=None, activity_absence=None)), values)
    assert max(without[STOP + 12 : STOP + DAY // 2]) < alert


def test_bursts_that_keep_coming_stay_quiet() -> None:
    assert max(run(BurstAbsenceDetector(), batch_bursts(2, stop=None))[3 * DAY :]) < 0.35


def test_a_series_without_bursts_is_never_judged() -> None:
    rng = np.random.default_rng(0)
    noisy = 10 + rng.normal(0, 1, 10 * DAY)
    assert max(run(BurstAbsenceDetector(), noisy)) == 0.0


def test_otsu_split_separates_within_burst_from_between_burst_gaps() -> None:
    # log2 gap histogram: many 1-2 point gaps inside bursts, a few 32-64 point gaps between them.
    counts = [40, 25, 3, 0, 0, 6, 9, 2]
    assert otsu_split(counts) in (2, 3, 4)
    assert otsu_split([0] * 8) == 0


def test_gaps_of_one_kind_make_single_point_bursts_unless_points_are_neighbours() -> None:
    hourly_on_5_minutes = [0, 0, 0, 150, 8]  # gaps of 12 points, a few of 24 (a missed run)
    assert within_burst_gap(hourly_on_5_minutes) == 7  # every run is a burst of its own
    assert within_burst_gap([0, 0, 0, 150]) == 7
    assert within_burst_gap([40, 0, 0, 0, 0, 9]) == 1  # runs of neighbouring points, an hour apart
    bursts_of_neighbours = [40, 25, 3, 0, 0, 6, 9, 2]
    assert within_burst_gap(bursts_of_neighbours) == 2 ** (otsu_split(bursts_of_neighbours) + 1) - 1
    assert within_burst_gap([12]) == 1  # neighbouring points only: one continuing burst
    assert within_burst_gap([0] * 8) == 1


def test_an_hourly_job_on_a_five_minute_series_that_stops_is_a_silence() -> None:
    # One point per run (the run is shorter than the step), every 12 points; the job stops on day 4.
    rng = np.random.default_rng(0)
    values = rng.poisson(0.3, 5 * DAY).astype(float)
    values[::12] += 40 + rng.poisson(10, values[::12].size)
    stop = 4 * DAY
    values[stop : stop + 72] = rng.poisson(0.3, 72)  # six hours without a run
    for config in (AbsenceConfig(), AbsenceConfig(level_scale="log")):
        absence = run(BurstAbsenceDetector(config), values)
        assert max(absence[2 * DAY : stop]) < 0.2  # runs every hour: no silence stands out
        assert max(absence[stop : stop + 72]) >= 0.5  # a run is missing, then another


def scores(detector: BurstAbsenceDetector, series: SyntheticSeries) -> np.ndarray:
    pairs = zip(series.timestamps.tolist(), series.values.tolist(), strict=True)
    return np.array([detector.update(t, v).score for t, v in pairs])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_hourly_job_with_heavy_tailed_sizes_that_stops_is_found_within_two_hours(seed: int) -> None:
    # 1-minute points; each hourly run lasts 3 minutes and its sizes are heavy-tailed (negative binomial).
    stopped = generate("bursty_counts", seed, days=6.0, onset_day=5.0)
    twin = generate("bursty_counts", seed, days=6.0, onset_day=5.0, inject=False)
    assert stopped.anomaly is not None
    onset = stopped.anomaly[0]
    spans = {"window_points": 7200, "min_points": 1440}
    during = (stopped.timestamps >= onset) & (stopped.timestamps < onset + 7200)
    # Half-way to the 99th percentile, about one run in ten has no point above the level: a 4-hour stop
    # is not rare.  Half-way on a log scale from the quiet spread, every run is active and it is.
    large = scores(BurstAbsenceDetector(AbsenceConfig(**spans)), stopped)
    assert max(large[during]) < 0.5
    activity = scores(BurstAbsenceDetector(AbsenceConfig(level_scale="log", **spans)), stopped)
    assert max(activity[during]) >= 0.9
    usual = scores(BurstAbsenceDetector(AbsenceConfig(level_scale="log", **spans)), twin)
    # Once a full history of silences (64: about 3 days of hourly runs) calibrates them: a run a few
    # minutes late is not surprising before that, with only a few dozen near-identical silences seen.
    assert max(usual[twin.timestamps >= twin.timestamps[0] + 3 * 86_400]) < 0.5


def test_the_ensemble_watches_both_large_bursts_and_any_activity() -> None:
    stopped = generate("bursty_counts", 0, days=6.0, onset_day=5.0)
    assert stopped.anomaly is not None
    detector = EnsembleDetector()
    pairs = zip(stopped.timestamps.tolist(), stopped.values.tolist(), strict=True)
    results = [detector.update(t, v) for t, v in pairs]
    onset = stopped.anomaly[0]
    during = [r for r in results if onset <= r.timestamp < onset + 7200]
    assert any(r.is_anomaly for r in during)
    assert max(r.components["activity_absence"] for r in during) >= 0.9
    assert max(r.components["absence"] for r in during) < 0.5
    without = EnsembleDetector(EnsembleConfig(activity_absence=None))
    pairs = zip(stopped.timestamps.tolist(), stopped.values.tolist(), strict=True)
    assert not any(without.update(t, v).is_anomaly for t, v in pairs if onset <= t < onset + 7200)


def test_detectors_sharing_the_ensembles_week_of_values_score_as_they_do_alone() -> None:
    # Value novelty and both absence detectors read one shared window; each must see exactly the values
    # it would have kept itself (no value added twice, none before every detector has scored it).
    series = generate("bursty_counts", 1, days=3.0, onset_day=2.0)
    ensemble = EnsembleDetector(step_seconds=series.step_seconds)
    cfg = ensemble.effective_config
    assert cfg.novelty and cfg.absence and cfg.activity_absence
    alone = {
        "novelty": ValueNoveltyDetector(cfg.novelty),
        "absence": BurstAbsenceDetector(cfg.absence),
        "activity_absence": BurstAbsenceDetector(cfg.activity_absence, name="activity_absence"),
    }
    pairs = list(zip(series.timestamps.tolist(), series.values.tolist(), strict=True))
    together = [ensemble.update(t, v).components for t, v in pairs]
    for name, detector in alone.items():
        own = [detector.update(t, v).score for t, v in pairs]
        assert own == [components[name] for components in together], name
        assert max(own) > 0.3, name  # the comparison covers scores that matter, not only zeros


@pytest.mark.parametrize("seed", [5, 6, 10])
def test_a_run_that_starts_a_minute_or_two_late_is_the_same_run(seed: int) -> None:
    # An hourly job's first minute is sometimes too small to count as activity, so the run seems to start
    # two minutes late. Its silences are otherwise all alike; without a floor on how finely silences are
    # told apart, being two minutes later than every silence seen so far looked impossibly rare.
    twin = generate("bursty_counts", seed, days=4.0, inject=False)
    config = EnsembleDetector(step_seconds=twin.step_seconds).effective_config.activity_absence
    assert config is not None
    assert max(scores(BurstAbsenceDetector(config, name="activity_absence"), twin)) < 0.5
