"""What a detector returns for each point."""

from __future__ import annotations

from dataclasses import dataclass, field

from otel_ops.sidecar.anomaly.tail_calibration import probability_to_score


@dataclass(slots=True)
class AnomalyResult:
    """Outcome of scoring one point (read it, do not change it: detectors build one per point, and a frozen
    dataclass would cost four times as much to build).

    ``score`` is in 0..1 (higher is more anomalous).  ``expected``/``lower``/``upper`` describe the band the
    detector expected the value in (``None`` while it is still learning).  ``tail_probability`` is the
    estimated chance of a surprise at least this large under normal behaviour (1.0 when not estimated).
    ``incident_start``, on a point that alerts (``is_anomaly``), is when its incident opened: the timestamp
    of the incident's first alerting point (this one's, when it opens a new incident).
    """

    timestamp: float
    value: float
    score: float
    expected: float | None = None
    lower: float | None = None
    upper: float | None = None
    is_anomaly: bool = False
    tail_probability: float = 1.0
    time_to_exhaustion_seconds: float | None = None
    components: dict[str, float] = field(default_factory=dict)
    incident_start: float | None = None

    @classmethod
    def banded(
        cls,
        name: str,
        timestamp: float,
        value: float,
        score: float,
        expected: float,
        half_width: float,
        probability: float,
    ) -> AnomalyResult:
        """A detector's result with its band ``expected ± half_width``, scored as component ``name``."""
        return cls(
            timestamp=timestamp,
            value=value,
            score=score,
            expected=expected,
            lower=expected - half_width,
            upper=expected + half_width,
            tail_probability=probability,
            components={name: score},
        )

    @classmethod
    def unbanded(
        cls, name: str, timestamp: float, value: float, probability: float, full_scale_log10: float
    ) -> AnomalyResult:
        """A detector's result without an expected band, scored from its tail probability."""
        score = probability_to_score(probability, full_scale_log10)
        return cls(
            timestamp=timestamp,
            value=value,
            score=score,
            tail_probability=probability,
            components={name: score},
        )
