"""Offline scoring of a whole series with the same streaming detectors and arrival handling the live
jobs use."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from otel_ops.sidecar.anomaly.arrival import ArrivalGuard, OddityTally
from otel_ops.sidecar.anomaly.config import EnsembleConfig
from otel_ops.sidecar.anomaly.ensemble import EnsembleDetector
from otel_ops.sidecar.anomaly.protocol import StreamingDetector
from otel_ops.sidecar.anomaly.reasons import strongest_component
from otel_ops.sidecar.anomaly.result import AnomalyResult


def stream_results(
    detector: StreamingDetector, timestamps: Sequence[float], values: Sequence[float]
) -> Iterator[AnomalyResult]:
    """Feed the points one by one, in order, yielding each point's result as it is scored."""
    for timestamp, value in zip(timestamps, values, strict=True):
        yield detector.update(timestamp, value)


@dataclass
class Incident:
    """One incident of a scored series, as a live job would alert it: its alerting points, from the one
    that opened it (indices in arrival order), and its strongest point."""

    opened_index: int
    peak_index: int
    peak_score: float
    evidence: str | None  # the strongest component at the peak (``reasons.DETECTOR_REASONS`` says what it is)
    alerting_points: int = 1

    def add(self, index: int, result: AnomalyResult) -> None:
        self.alerting_points += 1
        if result.score > self.peak_score:
            self.peak_index, self.peak_score = index, result.score
            self.evidence = strongest_component(result)


@dataclass
class ScoredSeries:
    """Every point's score (0..1, in arrival order), the incidents its alerts make, and what was odd about
    the points."""

    scores: list[float]
    oddities: OddityTally = field(default_factory=OddityTally)
    incidents: list[Incident] = field(default_factory=list)


def score_arrivals(
    timestamps: Sequence[float],
    values: Sequence[float],
    config: EnsembleConfig | None = None,
    on_point: Callable[[], None] | None = None,
    locations: Sequence[str] | None = None,
) -> ScoredSeries:
    """Score every point in arrival order with a fresh ensemble detector built from ``config``.

    Out-of-order and repeated timestamps, gaps and missing values are handled and counted by
    :class:`~otel_ops.sidecar.anomaly.arrival.ArrivalGuard`; a point without a value scores 0.
    ``locations`` names each point in the tally (e.g. ``line 12``); by default its 0-based index.
    """
    detector = EnsembleDetector(config)
    guard = ArrivalGuard()
    scored = ScoredSeries([])
    scores, incidents = scored.scores, scored.incidents
    open_incident: float | None = None  # when the last incident opened (the detector's incident_start)
    for index, (timestamp, value) in enumerate(zip(timestamps, values, strict=True)):
        arrival = guard.admit(timestamp, value)
        if arrival.oddities:
            where = locations[index] if locations is not None else f"point {index}"
            scored.oddities.add(arrival, where, guard.last_missing_points)
        if arrival.value is None:
            scores.append(0.0)
        else:
            result = detector.update(arrival.detector_time, arrival.value)
            scores.append(result.score)
            if result.is_anomaly:
                if incidents and result.incident_start == open_incident:
                    incidents[-1].add(index, result)
                else:
                    open_incident = result.incident_start
                    incidents.append(Incident(index, index, result.score, strongest_component(result)))
        if on_point is not None:
            on_point()
    return scored


def score_series(
    timestamps: Sequence[float],
    values: Sequence[float],
    config: EnsembleConfig | None = None,
    on_point: Callable[[], None] | None = None,
) -> list[float]:
    """Anomaly score (0..1) of every point, in arrival order (see :func:`score_arrivals`)."""
    return score_arrivals(timestamps, values, config, on_point).scores
