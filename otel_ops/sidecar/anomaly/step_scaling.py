"""Detector spans in time, not in points: default settings converted by the series' own step.

The defaults of the settings that span time (a day of forecast errors, a week of values, the warm-up, the
quiet period after an alert) are given in points of ``EnsembleConfig.reference_step_seconds`` (5 minutes:
288 points = a day).  For a series with another step they are scaled so that they cover the same time: a
1-minute series keeps 1440 points for "a day".  Settings that count something other than points of the
series (pattern steps, silences, bursts) and the "last few points" of the fast forecasts are not scaled.

A setting given explicitly (in a jobs file or a config object) is used as given, in points.  A scaled
span is capped at ``MAX_SPAN_POINTS`` (a week of 1-minute points), which bounds a series' memory and
per-point cost on very short steps (there, "a week" becomes the last ``MAX_SPAN_POINTS`` points).

Calibration histories are not scaled up on finer steps: they keep one entry per reference step (the
largest surprise of a block of points, ``CalibrationConfig.block_points``); so do the day-long windows of
forecast errors and the spike detector's reference (the median of a block), and seasonal slots learn one
value per ``SeasonalConfig.learn_seconds`` whatever the step, so a 1-minute series keeps about what a
5-minute one does.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from annotated_types import Ge
from pydantic import BaseModel

from otel_ops.sidecar.anomaly.config import (
    AbsenceConfig,
    CalibrationConfig,
    EnsembleConfig,
    FrozenConfig,
    NoveltyConfig,
    PatternConfig,
    SeasonalConfig,
    SpikeConfig,
)

MAX_SPAN_POINTS = 10_080

# Per settings class: the fields that are time spans counted in points of the series.
TIME_SPAN_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {
    EnsembleConfig: ("repeat_window_points", "refractory_points"),
    SeasonalConfig: ("error_points", "selection_half_life_points"),
    SpikeConfig: ("error_points", "reference_points"),
    NoveltyConfig: ("window_points", "min_points", "record_run_points"),
    PatternConfig: ("step_points", "range_points", "min_points"),
    AbsenceConfig: ("window_points", "min_points"),
    FrozenConfig: ("window_points", "min_points", "min_run_points"),
}
# Detectors whose calibration history is one surprise per point (pattern: per step; absence: per silence;
# frozen has none: its runs are counted over its window).
CALIBRATED_PER_POINT = ("seasonal", "spike", "novelty")
# Windows of a day kept in blocks on finer steps (one median per reference step, ``block_points``).
BLOCKED_WINDOWS: dict[type[BaseModel], tuple[str, ...]] = {
    SpikeConfig: ("error_points", "reference_points"),
    SeasonalConfig: ("error_points",),
}
CALIBRATION_SPANS = ("history_points", "warmup_points")


def _minimum(model: type[BaseModel], name: str) -> float:
    for constraint in model.model_fields[name].metadata:
        if isinstance(constraint, Ge):
            return float(constraint.ge)  # type: ignore[arg-type]
    return 1.0


def _scaled(model: BaseModel, fields: tuple[str, ...], factor: float, all_default: bool) -> dict[str, Any]:
    """Updates for the span ``fields`` of ``model`` that were left at their defaults."""
    updates: dict[str, Any] = {}
    for name in fields:
        if not all_default and name in model.model_fields_set:
            continue
        value = getattr(model, name)
        scaled = min(max(value * factor, _minimum(type(model), name)), max(value, MAX_SPAN_POINTS))
        updates[name] = round(scaled) if isinstance(value, int) else scaled
    return updates


def _scaled_calibration(
    calibration: CalibrationConfig, factor: float, all_default: bool
) -> CalibrationConfig:
    """A calibration history spanning the same time; on finer steps one entry per reference step.

    On a series finer than the reference step, a block of ``floor(factor)`` points (a 1-minute series: 5)
    makes one history entry, so the history keeps as many entries as on the reference step and its memory
    does not grow as the step shrinks."""
    if not all_default or factor <= 1.0:
        return calibration.model_copy(update=_scaled(calibration, CALIBRATION_SPANS, factor, all_default))
    block = math.floor(factor)
    updates = _scaled(calibration, CALIBRATION_SPANS, factor / block, all_default)
    return calibration.model_copy(update={**updates, "block_points": block})


@functools.lru_cache(maxsize=256)
def scale_to_step(config: EnsembleConfig, step_seconds: float) -> EnsembleConfig:
    """``config`` with its default time spans converted from the reference step to ``step_seconds``.

    Settings are frozen, so series with equal settings and steps share one converted object (cached)."""
    factor = config.reference_step_seconds / step_seconds
    if factor == 1.0 or step_seconds <= 0.0:
        return config
    updates = _scaled(config, TIME_SPAN_FIELDS[EnsembleConfig], factor, all_default=False)
    for name in type(config).model_fields:
        detector = getattr(config, name)
        if type(detector) not in TIME_SPAN_FIELDS or isinstance(detector, EnsembleConfig):
            continue  # not a detector's settings, a detector left out, or one without spans (exhaustion)
        all_default = name not in config.model_fields_set
        detector_updates = _scaled(detector, TIME_SPAN_FIELDS[type(detector)], factor, all_default)
        blocked = BLOCKED_WINDOWS.get(type(detector), ())
        explicit = detector.model_fields_set if not all_default else set()
        if blocked and factor > 1.0 and not explicit & {*blocked, "block_points"}:
            # The windows' own settings are defaults (others, such as seasonal slots, may be given).
            block = math.floor(factor)
            detector_updates.update(_scaled(detector, blocked, factor / block, all_default=True))
            detector_updates["block_points"] = block
        if name in CALIBRATED_PER_POINT:
            calibration: CalibrationConfig = detector.calibration
            calibration_default = all_default or "calibration" not in detector.model_fields_set
            detector_updates["calibration"] = _scaled_calibration(calibration, factor, calibration_default)
        updates[name] = detector.model_copy(update=detector_updates)
    return config.model_copy(update=updates)
