"""Value novelty: a value unlike any seen recently."""

from __future__ import annotations

from otel_ops.sidecar.anomaly.config import NoveltyConfig
from otel_ops.sidecar.anomaly.result import AnomalyResult
from otel_ops.sidecar.anomaly.rolling import SortedWindow
from otel_ops.sidecar.anomaly.tail_calibration import TailCalibrator


class ValueNoveltyDetector:
    """Scores the distance from a new value to the nearest of the last ``window_points`` values.

    Forecast-based detectors judge a value against recent noise, so a value inside the usual range of
    swings goes unnoticed even when the series has never been there: a peak a little higher than every
    earlier peak, a level in the gap between the two levels a bimodal series switches between, a spike on a
    series whose spikes always had the same height.  This detector asks instead "how far is this value from
    everything seen in the past week?", and turns that distance into a tail probability against its own
    history of such distances, so that only unusually new values score.  It gives no expected band.
    """

    name = "novelty"

    def __init__(self, config: NoveltyConfig | None = None, values: SortedWindow | None = None) -> None:
        """``values``: a window of ``config.window_points`` values kept by the caller, who adds each value
        once every detector sharing it has scored it; by default the detector keeps its own."""
        self.config = config or NoveltyConfig()
        cfg = self.config
        self._owns_values = values is None
        self._values = SortedWindow(cfg.window_points) if values is None else values
        self._calibrator = TailCalibrator.from_config(cfg.calibration)

    def update(self, timestamp: float, value: float) -> AnomalyResult:
        cfg = self.config
        probability = 1.0
        if len(self._values) >= cfg.min_points and self._counts(value):
            probability = self._calibrator.score_and_observe(self._values.nearest_distance(value))
        if self._owns_values:
            self._values.push(value)
        return AnomalyResult.unbanded(
            self.name, timestamp, value, probability, cfg.calibration.full_scale_log10
        )

    def _counts(self, value: float) -> bool:
        """Whether ``value`` is on the configured side of the window's median (always, for ``both``)."""
        direction = self.config.direction
        if direction == "both":
            return True
        median = self._values.median()
        return value > median if direction == "up" else value < median
