"""What an anomaly job keeps between runs, and the scoring of its new points."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from otel_ops.sidecar.anomaly import AnomalyResult, ArrivalGuard, EnsembleDetector, OddityTally

MAX_PENDING_ALERTS = 500


def iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()


@dataclass
class JobState:
    detectors: dict[str, EnsembleDetector] = field(default_factory=dict)
    arrivals: dict[str, ArrivalGuard] = field(default_factory=dict)
    oddities: dict[str, OddityTally] = field(default_factory=dict)
    last_point: dict[str, float] = field(default_factory=dict)
    next_start: float | None = None
    pending: dict[tuple[tuple[str, str], ...], dict[str, Any]] = field(default_factory=dict)
    """Alerts not yet delivered, one per label set (an incident's later points refresh its entry)."""
    failures: int = 0
    refused: int = 0
    """Series the last run's query returned beyond the job's ``max_series``."""
    last_error: str | None = None
    runs: int = 0

    def forget(self, key: str) -> None:
        for per_series in (self.detectors, self.arrivals, self.oddities, self.last_point):
            per_series.pop(key, None)

    def hold(self, alert: dict[str, Any]) -> None:
        """Keep ``alert`` for delivery, merged into the one of its labels as Alertmanager would merge it:
        the first point's start, the last point's end and annotations."""
        key = tuple(sorted(alert["labels"].items()))
        held = self.pending.pop(key, None)
        if held is not None:
            alert["startsAt"] = min(held["startsAt"], alert["startsAt"], key=dt.datetime.fromisoformat)
            alert["annotations"] = {**held["annotations"], **alert["annotations"]}
        self.pending[key] = alert
        while len(self.pending) > MAX_PENDING_ALERTS:
            del self.pending[next(iter(self.pending))]


def score_points(
    state: JobState, key: str, points: list[list[Any]]
) -> tuple[list[tuple[float, float, AnomalyResult]], AnomalyResult | None]:
    """Score Prometheus ``[timestamp, value]`` points of series ``key`` not scored before.

    Returns the anomalies as (timestamp, value, result) and the last result (``None`` if nothing was
    scored).  Runs in the scoring thread; a job's runs are sequential, so its state has one user at a time.
    """
    detector, guard, tally = state.detectors[key], state.arrivals[key], state.oddities[key]
    last = state.last_point.get(key, -math.inf)
    anomalies: list[tuple[float, float, AnomalyResult]] = []
    result: AnomalyResult | None = None
    for raw_ts, raw_value in points:
        timestamp, value = float(raw_ts), float(raw_value)
        if timestamp <= last:
            continue  # already scored by an earlier run
        last = timestamp
        arrival = guard.admit(timestamp, value)
        if arrival.oddities:
            tally.add(arrival, iso(timestamp), guard.last_missing_points)
        if arrival.value is None:
            continue
        result = detector.update(arrival.detector_time, arrival.value)
        if result.is_anomaly:
            anomalies.append((timestamp, value, result))
    state.last_point[key] = last
    return anomalies, result
