"""Fast detector for spikes and level shifts."""

from __future__ import annotations

from collections import deque
from statistics import median

from otel_ops.sidecar.anomaly.config import SpikeConfig
from otel_ops.sidecar.anomaly.result import AnomalyResult
from otel_ops.sidecar.anomaly.robust_scale import MAD_TO_SIGMA, RELATIVE_FLOOR, ErrorScale
from otel_ops.sidecar.anomaly.rolling import Blocks, SortedWindow
from otel_ops.sidecar.anomaly.signed_surprise import signed_surprise
from otel_ops.sidecar.anomaly.tail_calibration import MIN_TAIL_POINTS, TailCalibrator, probability_to_score

IQR_TO_SIGMA = 1 / 1.349
# A forecast error is judged once the error scale holds this many entries (as few as a tail is fitted to):
# against a scale of fewer, or none (its floor), an ordinary error is a surprise of millions, which would sit
# in the calibration history for days and make every real spike look ordinary next to it.
MIN_SCALE_ENTRIES = MIN_TAIL_POINTS


class SpikeLevelShiftDetector:
    """Reacts within a few points to spikes and to level shifts.

    * Spike: the error of a one-step forecast (median of the last few points) in robust standard deviations
      of recent forecast errors.
    * Level shift: the median of the last few points against the median of the window before them, in
      robust standard deviations of that reference window.

    Each surprise is turned into a tail probability against its own history; the detector reports the
    smaller one, Bonferroni-corrected for the two tests.
    """

    name = "spike"

    def __init__(self, config: SpikeConfig | None = None) -> None:
        self.config = config or SpikeConfig()
        cfg = self.config
        calibration = cfg.calibration
        self._recent: deque[float] = deque(maxlen=cfg.level_points)
        self._shift_recent: deque[float] = deque(maxlen=cfg.shift_points)
        self._reference = SortedWindow(cfg.reference_points)
        self._reference_blocks = Blocks(cfg.block_points) if cfg.block_points > 1 else None
        self._errors = ErrorScale(cfg.error_points, cfg.block_points)
        self._spike_tail = TailCalibrator.from_config(calibration)
        self._shift_tail = TailCalibrator.from_config(calibration)

    def update(self, timestamp: float, value: float) -> AnomalyResult:
        cfg = self.config
        if len(self._recent) < cfg.level_points:
            result = AnomalyResult(timestamp=timestamp, value=value, score=0.0)
        else:
            expected = median(self._recent)
            sigma = self._errors.sigma(expected)
            error = value - expected
            spike_probability = 1.0
            if len(self._errors) >= MIN_SCALE_ENTRIES:
                spike_probability = self._spike_tail.score_and_observe(
                    signed_surprise(error, sigma, cfg.direction)
                )
            self._errors.observe(error)

            shift_probability = 1.0
            if len(self._shift_recent) == self._shift_recent.maxlen and len(self._reference) >= 16:
                shift_probability = self._shift_tail.score_and_observe(self._shift_surprise(value))

            probability = min(1.0, 2.0 * min(spike_probability, shift_probability))
            score = probability_to_score(probability, cfg.calibration.full_scale_log10)
            half_width = cfg.band_z * sigma
            result = AnomalyResult.banded(
                self.name, timestamp, value, score, expected, half_width, probability
            )

        if len(self._shift_recent) == self._shift_recent.maxlen:
            self._push_reference(self._shift_recent[0])
        self._shift_recent.append(value)
        self._recent.append(value)
        return result

    def _push_reference(self, value: float) -> None:
        if self._reference_blocks is None:
            self._reference.push(value)
        elif (block := self._reference_blocks.add(value)) is not None:
            self._reference.push(median(block))

    def _shift_surprise(self, value: float) -> float:
        """Robust z of the recent median (including ``value``) against the reference window."""
        recent = [*list(self._shift_recent)[1:], value]
        reference = self._reference
        centre = reference.median()
        spread = (reference.quantile(0.75) - reference.quantile(0.25)) * IQR_TO_SIGMA
        if spread <= 0.0:
            spread = MAD_TO_SIGMA * _mean_abs_deviation(reference, centre)
        spread = max(spread, RELATIVE_FLOOR * max(1.0, abs(centre)))
        return signed_surprise(median(recent) - centre, spread, self.config.direction)


def _mean_abs_deviation(window: SortedWindow, centre: float) -> float:
    values = window.largest(len(window))
    return sum(map(abs, map(centre.__rsub__, values))) / len(values)  # each |v - centre|, in order
