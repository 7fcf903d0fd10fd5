"""Feeding synthetic series of 5-minute points to streaming detectors."""

from __future__ import annotations

import numpy as np

from otel_ops.sidecar.anomaly import StreamingDetector

STEP_SECONDS = 300
DAY = 86_400 // STEP_SECONDS
START = 1_700_006_400


def run(detector: StreamingDetector, values: np.ndarray) -> list[float]:
    """Each point's score, fed in order one every ``STEP_SECONDS``."""
    timestamps = START + np.arange(values.size, dtype=float) * STEP_SECONDS
    return [detector.update(float(t), float(v)).score for t, v in zip(timestamps, values, strict=True)]
