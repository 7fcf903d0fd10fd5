"""The sidecar's default detector: combines the seasonal, spike/shift and exhaustion detectors."""

from __future__ import annotations

import itertools
import math
import sys
from collections import deque
from statistics import median

from otel_ops.sidecar.anomaly.absence import BurstAbsenceDetector
from otel_ops.sidecar.anomaly.config import EnsembleConfig
from otel_ops.sidecar.anomaly.exhaustion import ExhaustionForecaster
from otel_ops.sidecar.anomaly.frozen import FrozenValueDetector
from otel_ops.sidecar.anomaly.novelty import ValueNoveltyDetector
from otel_ops.sidecar.anomaly.pattern import PatternNoveltyDetector
from otel_ops.sidecar.anomaly.result import AnomalyResult
from otel_ops.sidecar.anomaly.rolling import VALUES_TYPECODE, MaximumRing, sorted_window, to_single
from otel_ops.sidecar.anomaly.schedule import MissedRunDetector
from otel_ops.sidecar.anomaly.seasonal import SeasonalBaselineDetector
from otel_ops.sidecar.anomaly.spike import SpikeLevelShiftDetector
from otel_ops.sidecar.anomaly.step_scaling import scale_to_step
from otel_ops.sidecar.anomaly.tail_calibration import probability_to_score

STEP_SAMPLE_POINTS = 16
# During a quiet period, a point whose evidence exceeds everything since the period opened by this many
# decades of probability is a new incident, even when its score ties the capped score that opened it.
NEW_INCIDENT_DECADES = 1.0
# Scores weigh a point's probability by the points per this interval: the chance of such a point within a
# minute of the series.  One alert score then means about the same false alerts per week whatever the step:
# a 5-minute series has a fifth of the points of a 1-minute one, so each of its points may be five times
# as likely for the same rate; a 10-second series has six times as many, each must be six times rarer.
EVIDENCE_INTERVAL_SECONDS = 60.0
# An incident is over once it has not alerted for this long: the next alert opens a new one.
INCIDENT_QUIET_SECONDS = 3600.0


class EnsembleDetector:
    """One 0..1 score from several detectors.

    The statistical detectors (spike/shift, seasonal, value and pattern novelty, absence of large bursts
    and of any activity, frozen values) each report a tail probability; the ensemble takes the smallest
    one, Bonferroni-corrected for the number of detectors, so adding a detector does not inflate false
    alarms.  While the seasonal forecast is the one
    that fits the series, the spike/shift detector claims no more surprise than the seasonal one: a value
    ordinary for this time of day or week is no spike.  The exhaustion forecast is a different
    kind of evidence (a deadline, not a surprise) and enters as the maximum of the two scores.  The expected
    band comes from the seasonal baseline while the series is seasonal, otherwise from the fast detector.
    The score is that probability per minute of series (``EVIDENCE_INTERVAL_SECONDS``), so the alert score
    means about the same false alerts per week on 10-second, 1-minute and 5-minute series.

    An anomaly episode (a spike, the hours after a level shift) raises many points at once.  A score that
    is not a new high over the recent ``repeat_window_points`` is damped by ``repeat_damping``, so an
    episode alerts when it starts and again only if it gets worse; ``components`` keep the undamped scores.
    Once a point alerts, the statistical score of the next ``refractory_points`` points is further scaled by
    ``refractory_damping`` (a refractory period) unless it exceeds the score that opened the period, or its
    evidence jumps ``NEW_INCIDENT_DECADES`` above all evidence since then (scores stop at 1.0, evidence
    does not), which then alerts and opens a new one: the aftermath of an incident (recovery, a second
    burst of the same episode) does not alert again, an outage right after a blip does.  On NAB this
    removes FP points without losing windows, since only the first detection inside an anomaly window
    earns a reward.  The exhaustion forecast is not damped, and neither is a missed run of a scheduled job
    when it is the strongest evidence: the schedule says a run was due, which no earlier value explains (a
    record run, then the job stops); nor a frozen value while its score rises above its run's earlier
    points: a gauge that stops moving is no aftermath of a spike hours before.

    Every alerting point names the incident it belongs to (``incident_start``): an alert opens a new
    incident after an hour without alerts, or when its evidence jumps on the other side of the expected
    value; otherwise it is the same incident going on or getting worse.  Live jobs label their alerts
    with it, so the outage that follows a false high is a new alert in Alertmanager, notified again, not
    a refresh of the one already firing.

    Default spans are converted to the series' step (:mod:`~otel_ops.sidecar.anomaly.step_scaling`): the
    step given here (a live job's), or else the median step of the first ``STEP_SAMPLE_POINTS`` points,
    which are scored 0 and learnt from once the step is known.
    """

    def __init__(self, config: EnsembleConfig | None = None, step_seconds: float | None = None) -> None:
        self.config = config or EnsembleConfig()
        self._step = step_seconds if step_seconds is not None and step_seconds > 0 else None
        self._pending: list[tuple[float, float]] | None = []
        if self._step is not None:
            self._build(self._step)

    def _build(self, step_seconds: float) -> None:
        self._pending = None
        self.effective_config = cfg = scale_to_step(self.config, step_seconds)
        self._points_per_interval = EVIDENCE_INTERVAL_SECONDS / step_seconds
        self._incident_quiet_points = max(1, round(INCIDENT_QUIET_SECONDS / step_seconds))
        self.seasonal = SeasonalBaselineDetector(cfg.seasonal) if cfg.seasonal is not None else None
        self.spike = SpikeLevelShiftDetector(cfg.spike) if cfg.spike is not None else None
        # Value novelty and both absence detectors keep the same week of values (in single precision, as
        # each keeps its own): one copy serves them all.
        window_points = [c.window_points for c in (cfg.novelty, cfg.absence, cfg.activity_absence) if c]
        self._shared_values = {
            points: sorted_window(points, VALUES_TYPECODE)
            for points in set(window_points)
            if window_points.count(points) > 1
        }
        shared = self._shared_values.get
        self.novelty = (
            ValueNoveltyDetector(cfg.novelty, shared(cfg.novelty.window_points)) if cfg.novelty else None
        )
        self.pattern = PatternNoveltyDetector(cfg.pattern) if cfg.pattern is not None else None
        self.absence = (
            BurstAbsenceDetector(cfg.absence, values=shared(cfg.absence.window_points))
            if cfg.absence
            else None
        )
        self.activity_absence = (
            BurstAbsenceDetector(
                cfg.activity_absence,
                name="activity_absence",
                values=shared(cfg.activity_absence.window_points),
            )
            if cfg.activity_absence
            else None
        )
        self.frozen = FrozenValueDetector(cfg.frozen) if cfg.frozen is not None else None
        self.missed_runs = (
            MissedRunDetector(cfg.missed_runs, self.activity_absence)
            if cfg.missed_runs is not None and self.activity_absence is not None
            else None
        )
        self.exhaustion = ExhaustionForecaster(cfg.exhaustion) if cfg.exhaustion is not None else None
        self._point_detectors = tuple(
            d
            for d in (self.novelty, self.pattern, self.absence, self.activity_absence, self.frozen)
            if d is not None
        )
        self._shared_windows = tuple(self._shared_values.values())
        self._recent_scores = MaximumRing(max(cfg.repeat_window_points, 1), "f")  # compared as kept
        self._capped_evidence: deque[tuple[int, float]] = deque()  # (point, evidence) of recent 1.0 scores
        self._points = 0
        self._points_since_alert: int | None = None
        self._opening_score = 0.0
        self._period_evidence = 0.0
        self._incident_start: float | None = None
        self._incident_side = 0
        self._points_since_alerting = 0  # since the last alerting point of any kind, while an incident runs
        self._frozen_run_high = (-1, 0.0)  # (first point, highest score) of the frozen run that led

    def update(self, timestamp: float, value: float) -> AnomalyResult:
        pending = self._pending
        if pending is not None:
            pending.append((timestamp, value))
            steps = [b[0] - a[0] for a, b in itertools.pairwise(pending) if b[0] > a[0]]
            if len(steps) < STEP_SAMPLE_POINTS - 1 and len(pending) < 4 * STEP_SAMPLE_POINTS:
                return AnomalyResult(timestamp=timestamp, value=value, score=0.0)
            self._build(median(steps) if steps else self.config.reference_step_seconds)
            for past_timestamp, past_value in pending[:-1]:
                self._score(past_timestamp, past_value)
        return self._score(timestamp, value)

    def _score(self, timestamp: float, value: float) -> AnomalyResult:
        components: dict[str, float] = {}
        probabilities: list[float] = []
        band: AnomalyResult | None = None
        spike_entry: int | None = None
        missed_run_leads = False

        spike = self.spike.update(timestamp, value) if self.spike is not None else None
        seasonal = self.seasonal.update(timestamp, value) if self.seasonal is not None else None
        seasonal_fits = (
            self.seasonal is not None
            and self.seasonal.seasonal_active
            and seasonal is not None
            and seasonal.expected is not None
        )
        if spike is not None:
            components[SpikeLevelShiftDetector.name] = spike.score
            # A value ordinary for this time of day is no spike: while the seasonal forecast is the one
            # that fits, the fast detector claims no more surprise than it.
            spike_probability = spike.tail_probability
            if seasonal_fits and seasonal is not None:
                spike_probability = max(spike_probability, seasonal.tail_probability)
            probabilities.append(spike_probability)
            spike_entry = len(probabilities) - 1
            band = spike
        if seasonal is not None:
            components[SeasonalBaselineDetector.name] = seasonal.score
            probabilities.append(seasonal.tail_probability)
            if band is None or seasonal_fits:
                band = seasonal
        novelty_entry = len(probabilities)  # value novelty is the first of the point detectors
        frozen_probability = 1.0  # stays 1.0 without a frozen value detector
        for detector in self._point_detectors:
            point_probability = detector.probability(timestamp, value)
            components[detector.name] = probability_to_score(point_probability, detector.full_scale_log10)
            probabilities.append(point_probability)
            if detector is self.frozen:
                frozen_probability = point_probability
        missed_runs = self.missed_runs
        if missed_runs is not None:
            # Counted among the detectors only on the points it tests: the slots of a scheduled job.
            missed_probability = missed_runs.probability(timestamp, value)
            components[missed_runs.name] = 0.0
            if missed_runs.testing:
                components[missed_runs.name] = probability_to_score(
                    missed_probability, missed_runs.full_scale_log10
                )
                missed_run_leads = missed_probability <= min(probabilities, default=1.0)
                probabilities.append(missed_probability)
            run_tail = missed_runs.run_tail
            if run_tail is not None and spike_entry is not None:
                # A scheduled job's run is its usual burst: no more a spike than its size is rare.
                probabilities[spike_entry] = max(probabilities[spike_entry], run_tail)
            if run_tail is not None and self.novelty is not None:
                # A week's record can only fall on a run: judged among the runs, not among all points.
                probabilities[novelty_entry] = min(
                    1.0, probabilities[novelty_entry] * missed_runs.points_per_run_point
                )
        for values in self._shared_windows:
            values.push(value)

        probability = min(1.0, len(probabilities) * min(probabilities)) if probabilities else 1.0
        per_interval = min(1.0, probability * self._points_per_interval)
        evidence = -math.log10(max(probability, sys.float_info.min))
        score = probability_to_score(per_interval, self.effective_config.full_scale_log10)
        frozen_rises = self._frozen_run_rises(frozen_probability, min(probabilities), score)
        undamped = missed_run_leads or frozen_rises
        score, jump = self._refractory(self._damp_repeats(score, evidence, undamped), evidence, undamped)

        time_to_exhaustion: float | None = None
        if self.exhaustion is not None:
            exhaustion = self.exhaustion.update(timestamp, value)
            components[self.exhaustion.name] = exhaustion.score
            time_to_exhaustion = exhaustion.time_to_exhaustion_seconds
            score = max(score, exhaustion.score)

        expected = band.expected if band is not None else None
        side = 0 if expected is None or value == expected else (1 if value > expected else -1)
        if missed_run_leads:
            side = -1  # below the run that was due: each further missed run is the same incident worsening
        is_anomaly = self._track_incident(timestamp, score, jump, side)
        if is_anomaly and not frozen_rises and self.frozen is not None:
            # Any other alert covers the run of values it fell in (an outage that then sits at zero).
            self._frozen_run_high = (self.frozen.run_start, math.inf)
        return AnomalyResult(
            timestamp=timestamp,
            value=value,
            score=score,
            expected=expected,
            lower=band.lower if band is not None else None,
            upper=band.upper if band is not None else None,
            is_anomaly=is_anomaly,
            tail_probability=probability,
            time_to_exhaustion_seconds=time_to_exhaustion,
            components=components,
            incident_start=self._incident_start if is_anomaly else None,
        )

    def _frozen_run_rises(self, frozen_probability: float, smallest: float, score: float) -> bool:
        """Whether a frozen value leads with a score above its run's earlier points. A gauge that stops
        moving is no aftermath of what alerted before its run began: the run is judged against itself
        only, so it alerts as soon as it would have without that alert, and keeps alerting while it grows,
        as one incident; once its score stops rising (at 1.0), or when something else alerted during the
        run, it is damped like any repeat."""
        frozen = self.frozen
        if frozen is None or frozen_probability >= 1.0 or frozen_probability > smallest:
            return False
        start, high = self._frozen_run_high
        if start != frozen.run_start:
            high = 0.0
        self._frozen_run_high = (frozen.run_start, max(high, score))
        return score > high

    def _track_incident(self, timestamp: float, score: float, jump: bool, side: int) -> bool:
        """Whether the point alerts. An incident lasts while it keeps alerting, until it has been quiet
        for ``INCIDENT_QUIET_SECONDS`` (a series stuck at its limit, its exhaustion forecast firing point
        after point, is one incident however long). An alert after that opens a new one, and so does one
        with evidence ten times stronger than anything since the refractory period opened on the other
        ``side`` of the expected value (1 above, -1 below, 0 unknown): an outage right after a false
        high; the same jump on the same side is the incident getting worse (a spike that turns out to
        be a level shift)."""
        cfg = self.effective_config
        self._points_since_alerting += 1
        if score < cfg.alert_score:
            return False
        stale = self._points_since_alerting > self._incident_quiet_points
        turned = jump and (side == 0 or side != self._incident_side)
        if self._incident_start is None or stale or turned:
            self._incident_start, self._incident_side = timestamp, side
        self._points_since_alerting = 0
        return True

    def _refractory(self, score: float, evidence: float, undamped: bool = False) -> tuple[float, bool]:
        """The statistical score after the refractory period, and whether its evidence jumped ten times
        above everything since the period opened (``_track_incident`` decides what that makes it)."""
        cfg = self.effective_config
        since = self._points_since_alert
        jump = False
        if since is not None:
            since += 1
            self._points_since_alert = since
            # Scores stop at 1.0, so two very different alerts can tie: evidence (-log10 of the
            # probability) ten times stronger than anything since the period opened is a new incident too.
            # Evidence that grows point by point (a frozen gauge, a silence) never jumps like that.
            jump = evidence > self._period_evidence + NEW_INCIDENT_DECADES
            self._period_evidence = max(self._period_evidence, evidence)
            if since <= cfg.refractory_points and score <= self._opening_score and not jump and not undamped:
                return score * cfg.refractory_damping, False
        if score < cfg.alert_score:
            return score, False
        # An alert opens a new period: something worse than it (an outage hours after a blip) is not its
        # aftermath.
        if cfg.refractory_points > 0:
            self._points_since_alert = 0
            self._opening_score = score
            self._period_evidence = evidence
        return score, jump

    def _damp_repeats(self, score: float, evidence: float, undamped: bool = False) -> float:
        if self.effective_config.repeat_window_points == 0:
            return score
        recent, capped = self._recent_scores, self._capped_evidence
        point = self._points
        self._points += 1
        while capped and capped[0][0] < point - len(recent):
            capped.popleft()
        new_high = not recent or to_single(score) > recent.maximum()
        # Scores tie at 1.0, evidence does not: at the capped score, evidence ten times stronger than any
        # recent point's (an outage right after a false alert at 1.0) is damped no lower than the alert
        # score, so a higher alert score does not hide it. Below the cap such evidence always scores
        # higher, so only capped points are kept.
        stronger = (
            not new_high and score >= 1.0 and evidence > max(e for _, e in capped) + NEW_INCIDENT_DECADES
        )
        recent.push(score)
        if score >= 1.0:
            capped.append((point, evidence))
        if new_high or undamped:
            return score
        damped = score * self.effective_config.repeat_damping
        return max(damped, self.effective_config.alert_score) if stronger else damped
