"""Streaming anomaly detection for the ops sidecar.

Every detector scores each point when it arrives, from the past only, in O(1) amortised time and bounded
memory: ``detector.update(timestamp, value) -> AnomalyResult``.  Build one from a config object::

    detector = EnsembleDetector(EnsembleConfig())
    result = detector.update(time.time(), error_ratio)
    if result.is_anomaly: ...
"""

from otel_ops.sidecar.anomaly.absence import BurstAbsenceDetector
from otel_ops.sidecar.anomaly.arrival import Arrival, ArrivalGuard, Oddity, OddityTally
from otel_ops.sidecar.anomaly.batch import (
    Incident,
    ScoredSeries,
    score_arrivals,
    score_series,
    stream_results,
)
from otel_ops.sidecar.anomaly.config import (
    AbsenceConfig,
    CalibrationConfig,
    EnsembleConfig,
    ExhaustionConfig,
    FrozenConfig,
    NoveltyConfig,
    PatternConfig,
    ScheduleConfig,
    SeasonalConfig,
    SpikeConfig,
)
from otel_ops.sidecar.anomaly.ensemble import EnsembleDetector
from otel_ops.sidecar.anomaly.exhaustion import ExhaustionForecaster
from otel_ops.sidecar.anomaly.frozen import FrozenValueDetector
from otel_ops.sidecar.anomaly.novelty import ValueNoveltyDetector
from otel_ops.sidecar.anomaly.pattern import PatternNoveltyDetector
from otel_ops.sidecar.anomaly.protocol import StreamingDetector
from otel_ops.sidecar.anomaly.result import AnomalyResult
from otel_ops.sidecar.anomaly.schedule import MissedRunDetector
from otel_ops.sidecar.anomaly.seasonal import SeasonalBaselineDetector
from otel_ops.sidecar.anomaly.series_csv import SeriesFormatError, TimeSeries, read_series_csv
from otel_ops.sidecar.anomaly.spike import SpikeLevelShiftDetector
from otel_ops.sidecar.anomaly.step_scaling import scale_to_step

__all__ = [
    "AbsenceConfig",
    "AnomalyResult",
    "Arrival",
    "ArrivalGuard",
    "BurstAbsenceDetector",
    "CalibrationConfig",
    "EnsembleConfig",
    "EnsembleDetector",
    "ExhaustionConfig",
    "ExhaustionForecaster",
    "FrozenConfig",
    "FrozenValueDetector",
    "Incident",
    "MissedRunDetector",
    "NoveltyConfig",
    "Oddity",
    "OddityTally",
    "PatternConfig",
    "PatternNoveltyDetector",
    "ScheduleConfig",
    "ScoredSeries",
    "SeasonalBaselineDetector",
    "SeasonalConfig",
    "SeriesFormatError",
    "SpikeConfig",
    "SpikeLevelShiftDetector",
    "StreamingDetector",
    "TimeSeries",
    "ValueNoveltyDetector",
    "read_series_csv",
    "scale_to_step",
    "score_arrivals",
    "score_series",
    "stream_results",
]
