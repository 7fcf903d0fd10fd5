"""The interface every streaming detector implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from otel_ops.sidecar.anomaly.result import AnomalyResult


@runtime_checkable
class StreamingDetector(Protocol):
    """Scores each point when it arrives, from the points before it only."""

    def update(self, timestamp: float, value: float) -> AnomalyResult:
        """Score ``value`` observed at ``timestamp`` (Unix seconds), then learn from it."""
        ...
