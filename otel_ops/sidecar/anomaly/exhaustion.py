"""Exhaustion forecast: "at the current trend, the value crosses LIMIT within the horizon"."""

from __future__ import annotations

import math
from collections import deque

from otel_ops.sidecar.anomaly.config import ExhaustionConfig
from otel_ops.sidecar.anomaly.result import AnomalyResult

_REBUILD_EVERY = 4096


class ExhaustionForecaster:
    """Least-squares trend over a sliding time window, like Prometheus ``predict_linear``, with guards.

    It only forecasts when the window holds enough points spanning enough time, the trend heads towards the
    limit and the line explains most of the variance (``min_r_squared``), so noise on a flat series never
    produces a forecast.  The score is ``0.5 ** (time_to_exhaustion / horizon)``: 1.0 when the limit is
    reached, 0.5 exactly at the horizon, and the point alerts when the crossing is within the horizon.
    """

    name = "exhaustion"

    def __init__(self, config: ExhaustionConfig) -> None:
        self.config = config
        self._points: deque[tuple[float, float]] = deque()
        self._anchor: float | None = None
        self._sums = [0.0, 0.0, 0.0, 0.0, 0.0]  # t, v, t*t, t*v, v*v (t relative to the anchor)
        self._since_rebuild = 0

    def update(self, timestamp: float, value: float) -> AnomalyResult:
        self._add(timestamp, value)
        cfg = self.config
        time_to_exhaustion = self._time_to_exhaustion(timestamp, value)
        if time_to_exhaustion is None:
            return AnomalyResult(timestamp=timestamp, value=value, score=0.0, components={self.name: 0.0})
        score = 0.5 ** (time_to_exhaustion / cfg.horizon_seconds)
        return AnomalyResult(
            timestamp=timestamp,
            value=value,
            score=score,
            is_anomaly=time_to_exhaustion <= cfg.horizon_seconds,
            time_to_exhaustion_seconds=time_to_exhaustion,
            components={self.name: score},
        )

    def _time_to_exhaustion(self, timestamp: float, value: float) -> float | None:
        cfg = self.config
        heading_up = cfg.direction == "up"
        if (value >= cfg.limit) if heading_up else (value <= cfg.limit):
            return 0.0
        n = len(self._points)
        if n < cfg.min_points or timestamp - self._points[0][0] < cfg.min_coverage * cfg.window_seconds:
            return None
        st, sv, stt, stv, svv = self._sums
        var_t = n * stt - st * st
        var_v = n * svv - sv * sv
        if var_t <= 0.0 or var_v <= 1e-12 * max(1.0, sv * sv):
            return None
        cov = n * stv - st * sv
        slope = cov / var_t
        if (slope <= 0.0) if heading_up else (slope >= 0.0):
            return None
        if cov * cov / (var_t * var_v) < cfg.min_r_squared:
            return None
        intercept = (sv - slope * st) / n
        assert self._anchor is not None
        predicted_now = intercept + slope * (timestamp - self._anchor)
        return max(0.0, (cfg.limit - predicted_now) / slope)

    def _add(self, timestamp: float, value: float) -> None:
        if not math.isfinite(value):
            return
        points = self._points
        points.append((timestamp, value))
        if self._anchor is None:
            self._anchor = timestamp
        self._accumulate(timestamp, value, 1.0)
        horizon_start = timestamp - self.config.window_seconds
        while points and points[0][0] < horizon_start:
            old_t, old_v = points.popleft()
            self._accumulate(old_t, old_v, -1.0)
        self._since_rebuild += 1
        if self._since_rebuild >= _REBUILD_EVERY:
            self._rebuild()

    def _accumulate(self, timestamp: float, value: float, sign: float) -> None:
        assert self._anchor is not None
        t = timestamp - self._anchor
        sums = self._sums
        sums[0] += sign * t
        sums[1] += sign * value
        sums[2] += sign * t * t
        sums[3] += sign * t * value
        sums[4] += sign * value * value

    def _rebuild(self) -> None:
        """Re-anchor at the oldest point and recompute the sums exactly, bounding rounding drift."""
        self._since_rebuild = 0
        self._anchor = self._points[0][0] if self._points else None
        self._sums = [0.0, 0.0, 0.0, 0.0, 0.0]
        for t, v in self._points:
            self._accumulate(t, v, 1.0)
