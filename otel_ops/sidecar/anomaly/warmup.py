"""How much history the detectors need before their scores reach full strength."""

from __future__ import annotations

import math

from otel_ops.sidecar.anomaly.config import EnsembleConfig
from otel_ops.sidecar.anomaly.spike import MIN_SCALE_ENTRIES


def full_strength_points(config: EnsembleConfig, step_seconds: float) -> int:
    """Points a series needs before every detector of ``config`` can score at full strength.

    ``config`` is the effective configuration (:func:`~otel_ops.sidecar.anomaly.scale_to_step` of the
    settings for ``step_seconds``).  Per detector, from what its code waits for:

    * spike/shift: ``level_points`` for its forecast, ``MIN_SCALE_ENTRIES`` blocks of errors for its scale,
      then its calibration's warm-up.
    * seasonal: ``min_cycles`` of its shortest period before it forecasts, then its calibration's warm-up.
    * value novelty: ``min_points`` before it scores, then its calibration's warm-up.
    * pattern novelty: ``min_points`` plus ``warmup_points`` steps of ``step_points``.
    * absence, activity absence, frozen value: ``min_points``.
    * exhaustion: ``min_points`` and ``min_coverage`` of its window.

    Missed runs are left out: they wait for ``2 * min_runs`` runs of the job's own schedule (two days of
    an hourly job), which no setting tells in advance.
    """
    needs = [0]
    if (spike := config.spike) is not None:
        calibration = spike.calibration
        scale = MIN_SCALE_ENTRIES * spike.block_points
        needs.append(spike.level_points + scale + calibration.warmup_points * calibration.block_points)
    if (seasonal := config.seasonal) is not None and seasonal.periods_seconds:
        calibration = seasonal.calibration
        forecasts_from = math.ceil(seasonal.min_cycles * min(seasonal.periods_seconds) / step_seconds)
        needs.append(forecasts_from + calibration.warmup_points * calibration.block_points)
    if (novelty := config.novelty) is not None:
        calibration = novelty.calibration
        needs.append(novelty.min_points + calibration.warmup_points * calibration.block_points)
    if (pattern := config.pattern) is not None:
        needs.append(pattern.min_points + pattern.step_points * pattern.calibration.warmup_points)
    needs.extend(d.min_points for d in (config.absence, config.activity_absence, config.frozen) if d)
    if (exhaustion := config.exhaustion) is not None:
        covered = math.ceil(exhaustion.min_coverage * exhaustion.window_seconds / step_seconds)
        needs.append(max(exhaustion.min_points, covered))
    return max(needs)
