"""Detectors that judge a point by its tail probability alone, without an expected band."""

from __future__ import annotations

from otel_ops.sidecar.anomaly.result import AnomalyResult


class UnbandedDetector:
    """Base of the detectors that give a tail probability and no expected band (novelty, patterns,
    absence, frozen values): :meth:`probability` scores a point and learns from it, :meth:`update` wraps
    that in an :class:`AnomalyResult`.  The ensemble reads the probability alone, so it builds no result
    per detector and point."""

    name: str
    full_scale_log10: float
    """A tail probability of ``10 ** -full_scale_log10`` or less scores 1.0."""

    def probability(self, timestamp: float, value: float) -> float:
        """Score ``value`` observed at ``timestamp``, then learn from it: the chance of a point at least
        this surprising under normal behaviour (1.0 when nothing is unusual)."""
        raise NotImplementedError

    def update(self, timestamp: float, value: float) -> AnomalyResult:
        return AnomalyResult.unbanded(
            self.name, timestamp, value, self.probability(timestamp, value), self.full_scale_log10
        )
