"""Offline scoring of a whole series with the same streaming detectors the live jobs use."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

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


def score_series(
    timestamps: Sequence[float],
    values: Sequence[float],
    config: EnsembleConfig | None = None,
    on_point: Callable[[], None] | None = None,
) -> list[float]:
    """Anomaly score (0..1) of every point, from a fresh ensemble detector built from ``config``."""
    detector = EnsembleDetector(config)
    scores: list[float] = []
    for result in stream_results(detector, timestamps, values):
        scores.append(result.score)
        if on_point is not None:
            on_point()
    return scores
