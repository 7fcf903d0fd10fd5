"""Offline scoring of a whole series with the same streaming detectors and arrival handling the live
jobs use."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from otel_ops.sidecar.anomaly.arrival import ArrivalGuard, OddityTally
from otel_ops.sidecar.anomaly.config import EnsembleConfig
from otel_ops.sidecar.anomaly.ensemble import EnsembleDetector
from otel_ops.sidecar.anomaly.protocol import StreamingDetector
from otel_ops.sidecar.anomaly.result import AnomalyResult


def stream_results(
    detector: StreamingDetector, timestamps: Sequence[float], values: Sequence[float]
) -> Iterator[AnomalyResult]:
    """Feed the points one by one, in order, yielding each point's result as it is scored."""
    for timestamp, value in zip(timestamps, values, strict=True):
        yield detector.update(timestamp, value)


@dataclass
class ScoredSeries:
    """Every point's score (0..1, in arrival order) and what was odd about the points."""

    scores: list[float]
    oddities: OddityTally = field(default_factory=OddityTally)


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
    tally = OddityTally()
    scores: list[float] = []
    for index, (timestamp, value) in enumerate(zip(timestamps, values, strict=True)):
        arrival = guard.admit(timestamp, value)
        if arrival.oddities:
            where = locations[index] if locations is not None else f"point {index}"
            tally.add(arrival, where, guard.last_missing_points)
        if arrival.value is None:
            scores.append(0.0)
        else:
            scores.append(detector.update(arrival.detector_time, arrival.value).score)
        if on_point is not None:
            on_point()
    return ScoredSeries(scores, tally)


def score_series(
    timestamps: Sequence[float],
    values: Sequence[float],
    config: EnsembleConfig | None = None,
    on_point: Callable[[], None] | None = None,
) -> list[float]:
    """Anomaly score (0..1) of every point, in arrival order (see :func:`score_arrivals`)."""
    return score_arrivals(timestamps, values, config, on_point).scores
