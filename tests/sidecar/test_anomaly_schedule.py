"""Missed runs: a job that runs on a schedule stops running."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from bench.synthetic.series import generate
from otel_ops.sidecar.anomaly import (
    AbsenceConfig,
    BurstAbsenceDetector,
    EnsembleConfig,
    EnsembleDetector,
    MissedRunDetector,
    ScheduleConfig,
)
from otel_ops.sidecar.anomaly.schedule import _binomial_tail
from otel_ops.sidecar.anomaly.tail_calibration import TailCalibrator
from tests.sidecar.anomaly_series import DAY

HOUR = 12  # 5-minute points


def hourly_job(seed: int, days: int, stop: int | None = None, jitter: bool = False) -> np.ndarray:
    """Items processed per 5 minutes: about 0.3 between runs, a heavy-tailed run (mean 50) every hour;
    no run from ``stop`` on. With ``jitter``, each run lands in a random point of its hour instead."""
    rng = np.random.default_rng(seed)
    values = rng.poisson(0.3, days * DAY).astype(float)
    for start in range(0, values.size, HOUR):
        if stop is not None and start >= stop:
            break
        at = start + int(rng.integers(0, HOUR)) if jitter else start
        if at < values.size:
            values[at] += rng.poisson(rng.gamma(2.0, 25.0))
    return values


def watch(values: np.ndarray) -> tuple[MissedRunDetector, list[float], list[bool]]:
    """A missed-run detector on the runs of an activity absence detector, as the ensemble wires them:
    each point's probability and whether it was a slot judged."""
    runs = BurstAbsenceDetector(AbsenceConfig(level_scale="log"))
    detector = MissedRunDetector(ScheduleConfig(), runs)
    probabilities, tested = [], []
    for index, value in enumerate(values.tolist()):
        runs.probability(index * 300.0, value)
        probabilities.append(detector.probability(index * 300.0, value))
        tested.append(detector.testing)
    return detector, probabilities, tested


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_hourly_job_that_stops_is_a_growing_run_of_missed_slots(seed: int) -> None:
    stop = 4 * DAY
    detector, probabilities, tested = watch(hourly_job(seed, 5, stop=stop))
    assert detector.period_points == HOUR
    slots = [stop + k * HOUR for k in range(4)]
    assert all(tested[slot] for slot in slots)
    evidence = [-math.log10(probabilities[slot]) for slot in slots]
    assert all(a < b for a, b in itertools.pairwise(evidence))  # each missed run adds to it
    assert evidence[2] >= 6.0
    assert all(p == 1.0 for p, t in zip(probabilities, tested, strict=True) if not t)  # slots only


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_hourly_job_that_keeps_running_is_never_a_missed_run_alert(seed: int) -> None:
    detector, probabilities, _ = watch(hourly_job(seed, 8))
    assert detector.period_points == HOUR
    assert min(probabilities) > 1e-5  # a small run now and then is not a stopped job


def test_runs_at_random_times_are_no_schedule() -> None:
    detector, probabilities, tested = watch(hourly_job(0, 6, jitter=True))
    assert detector.period_points == 0
    assert not any(tested) and min(probabilities) == 1.0


def test_a_slot_wider_than_chance_allows_is_no_schedule() -> None:
    # 22 of 24 starts within a point of one phase of four is what starts at random times give, often.
    assert _binomial_tail(22, 24, 3 / 4) > 1e-2
    assert _binomial_tail(22, 24, 3 / 12) < 1e-10  # in three points of an hour's twelve, it is a schedule
    assert _binomial_tail(0, 10, 0.3) == pytest.approx(1.0)


def test_the_ensemble_alerts_by_the_third_missed_run_of_an_hourly_job_and_keeps_one_incident() -> None:
    stopped = generate("bursty_counts", 0, days=6.0, onset_day=5.0, step=300.0)
    assert stopped.anomaly is not None
    onset = stopped.anomaly[0]
    detector = EnsembleDetector()
    pairs = zip(stopped.timestamps.tolist(), stopped.values.tolist(), strict=True)
    alerts = [r for r in (detector.update(t, v) for t, v in pairs) if r.is_anomaly and r.timestamp >= onset]
    assert alerts and alerts[0].timestamp <= onset + 2 * 3600
    assert alerts[0].components["missed_run"] >= 0.5
    assert {r.incident_start for r in alerts if r.timestamp < onset + 4 * 3600} == {alerts[0].timestamp}
    without = EnsembleDetector(EnsembleConfig(missed_runs=None))
    pairs = zip(stopped.timestamps.tolist(), stopped.values.tolist(), strict=True)
    assert not any(without.update(t, v).is_anomaly for t, v in pairs if onset <= t <= onset + 2 * 3600)


def test_a_run_on_schedule_is_no_spike() -> None:
    # Twin of the stopped job: runs keep coming; once the schedule is known, no run alerts.
    twin = generate("bursty_counts", 0, days=8.0, step=300.0, inject=False)
    detector = EnsembleDetector()
    pairs = zip(twin.timestamps.tolist(), twin.values.tolist(), strict=True)
    later = [
        r for r in (detector.update(t, v) for t, v in pairs) if r.timestamp >= twin.timestamps[0] + 3 * 86_400
    ]
    assert not any(r.is_anomaly for r in later if r.components["missed_run"] > 0.0)  # small runs happen
    assert max(r.score for r in later if r.timestamp % 3600 == 0) < 0.5


def test_a_runs_size_is_ranked_among_the_runs_of_its_slot() -> None:
    values = hourly_job(3, 4)
    runs = BurstAbsenceDetector(AbsenceConfig(level_scale="log"))
    detector = MissedRunDetector(ScheduleConfig(), runs)
    tails: dict[int, float | None] = {}
    for index, value in enumerate([*values.tolist(), 10_000.0, 0.0]):
        runs.probability(index * 300.0, value)
        detector.probability(index * 300.0, value)
        tails[index] = detector.run_tail
    end = values.size  # a slot: the run there is larger than every run before it
    slots = len(detector._slot_values or [])
    assert tails[end] == pytest.approx(1 / slots)  # its own value joined the slot's after it was ranked
    assert tails[end + 1] is None  # quiet: no run
    assert all(tails[i] is None for i in range(0, DAY))  # no schedule known yet


def test_a_tail_of_ties_is_extrapolated_on_its_own_grid() -> None:
    # A statistic of counts takes few values: 700 zeros and 40 ties at 1.35 (a median of 1 over a spread
    # of 0.74). One step beyond the ties is rare, not impossible.
    calibrator = TailCalibrator(history_points=740, warmup_points=16)
    for surprise in [0.0] * 700 + [1.35] * 40:
        calibrator.observe(surprise)
    assert 1e-5 < calibrator.tail_probability(2.0) < 1e-2
    assert calibrator.tail_probability(20.0) < calibrator.tail_probability(2.0) * 1e-3
    flat = TailCalibrator(history_points=740, warmup_points=16)
    for _ in range(740):
        flat.observe(0.0)
    assert flat.tail_probability(0.5) < 1e-100  # a history that never moved: any move is news


@pytest.mark.parametrize("seed", [6, 8, 11])
def test_a_record_run_of_a_scheduled_job_is_judged_among_runs(seed: int) -> None:
    # A week holds 168 runs of an hourly job, not 2016 chances of a record: on these twins a run above
    # the week's largest alerts as a new value only when every point counts as a chance.
    twin = generate("bursty_counts", seed, days=14.0, step=300.0, inject=False)

    def novelty_alerts(config: EnsembleConfig) -> int:
        detector = EnsembleDetector(config)
        pairs = zip(twin.timestamps.tolist(), twin.values.tolist(), strict=True)
        results = [detector.update(t, v) for t, v in pairs]
        return sum(
            1
            for r in results
            if r.is_anomaly and max(r.components, key=r.components.__getitem__) == "novelty"
        )

    assert novelty_alerts(EnsembleConfig(missed_runs=None)) >= 1
    assert novelty_alerts(EnsembleConfig()) == 0


def test_points_per_run_point_follow_the_runs_length() -> None:
    # 1-minute points, an hourly run of three points: a run point is one in twenty.
    rng = np.random.default_rng(0)
    values = rng.poisson(0.3, 4 * 1440).astype(float)
    for start in range(0, values.size, 60):
        values[start : start + 3] += 40 + rng.poisson(10, 3)
    runs = BurstAbsenceDetector(AbsenceConfig(level_scale="log", window_points=10_080, min_points=1440))
    detector = MissedRunDetector(ScheduleConfig(), runs)
    for index, value in enumerate(values.tolist()):
        runs.probability(index * 60.0, value)
        detector.probability(index * 60.0, value)
    assert detector.period_points == 60
    assert detector.points_per_run_point == pytest.approx(20.0)


def test_a_job_that_stops_hours_after_a_record_run_still_alerts() -> None:
    # Seed 329: a run above any of the week alerts three hours before the job stops. Its half day of
    # refractory period and repeat damping do not hide the missed runs: no value explains a run not coming.
    stopped = generate("bursty_counts", 329, step=300.0)
    assert stopped.anomaly is not None
    onset = stopped.anomaly[0]
    detector = EnsembleDetector()
    pairs = zip(stopped.timestamps.tolist(), stopped.values.tolist(), strict=True)
    alerts = [r for r in (detector.update(t, v) for t, v in pairs) if r.is_anomaly]
    assert any(onset - 12 * 3600 <= r.timestamp < onset for r in alerts)  # the record run
    during = [r for r in alerts if onset <= r.timestamp <= onset + 2 * 3600]
    assert during and during[0].components["missed_run"] >= 0.5
