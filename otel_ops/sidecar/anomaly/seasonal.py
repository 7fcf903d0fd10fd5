"""Robust seasonal baseline detector (time of day / time of week)."""

from __future__ import annotations

import math
from array import array
from collections import deque
from statistics import median

from otel_ops.sidecar.anomaly.config import SeasonalConfig
from otel_ops.sidecar.anomaly.result import AnomalyResult
from otel_ops.sidecar.anomaly.robust_scale import ErrorScale
from otel_ops.sidecar.anomaly.signed_surprise import signed_surprise
from otel_ops.sidecar.anomaly.tail_calibration import TailCalibrator, probability_to_score

# A time-of-period slot is one C array of doubles: its recent values (in time order) after the cycles they
# were seen in, as runs.  ``slot[0]`` is the length of the runs part, then ``cycle, count`` pairs (oldest
# first), then the values.  One array per slot, not an object holding two, because a job keeps 768 slots
# per series (a day and a week of 15-minute slots) and each object costs more than a slot's values.


def _new_slot() -> array[float]:
    return array("d", (0.0,))


def _slot_values(slot: array[float]) -> array[float]:
    return slot[1 + int(slot[0]) :]


def _slot_size(slot: array[float]) -> int:
    return len(slot) - 1 - int(slot[0])


def _slot_oldest_cycle(slot: array[float]) -> float | None:
    return slot[1] if slot[0] else None


def _slot_append(slot: array[float], cycle: int, value: float) -> None:
    runs_end = int(slot[0])
    if runs_end and slot[runs_end - 1] == cycle:
        slot[runs_end] += 1
    else:
        slot[runs_end + 1 : runs_end + 1] = array("d", (cycle, 1.0))
        slot[0] = runs_end + 2
    slot.append(value)


def _slot_drop_oldest(slot: array[float]) -> None:
    del slot[1 + int(slot[0])]
    slot[2] -= 1
    if slot[2] == 0:
        del slot[1:3]
        slot[0] -= 2


class _SeasonalProfile:
    """Recent values per time-of-period slot, and a robust level offset against them."""

    __slots__ = (
        "_cycles_kept",
        "_max_values",
        "_min_cycles",
        "_offsets",
        "_period",
        "_slot_seconds",
        "_slots",
    )

    def __init__(self, period_seconds: int, config: SeasonalConfig) -> None:
        self._period = period_seconds
        self._slot_seconds = config.slot_seconds
        self._cycles_kept = config.cycles_kept
        self._min_cycles = config.min_cycles
        self._max_values = config.max_values_per_slot
        self._slots: list[array[float] | None] = [None] * -(-period_seconds // config.slot_seconds)
        self._offsets: deque[float] = deque(maxlen=config.level_points)

    def _locate(self, timestamp: float) -> tuple[int, int]:
        cycle, phase = divmod(timestamp, self._period)
        return int(phase // self._slot_seconds), int(cycle)

    def forecast(self, timestamp: float) -> tuple[float | None, float | None]:
        """(forecast, slot profile) for this timestamp, or (None, None) while the slot is not learned."""
        index, cycle = self._locate(timestamp)
        slot = self._slots[index]
        oldest = _slot_oldest_cycle(slot) if slot is not None else None
        if slot is None or oldest is None or oldest > cycle - self._min_cycles:
            return None, None
        profile = median(_slot_values(slot))
        offset = median(self._offsets) if self._offsets else 0.0
        return profile + offset, profile

    def learn(self, timestamp: float, value: float, profile: float | None) -> None:
        index, cycle = self._locate(timestamp)
        slot = self._slots[index]
        if slot is None:
            slot = self._slots[index] = _new_slot()
        while slot[0] and slot[1] <= cycle - self._cycles_kept:
            _slot_drop_oldest(slot)
        if _slot_size(slot) >= self._max_values:
            _slot_drop_oldest(slot)
        _slot_append(slot, cycle, value)
        if profile is not None:
            self._offsets.append(value - profile)


class _Candidate:
    """Error bookkeeping for one forecasting method."""

    __slots__ = ("_decay", "_weight", "_weighted_sum", "observed", "scale")

    def __init__(self, error_points: int, decay: float) -> None:
        self.scale = ErrorScale(error_points)
        self._decay = decay
        self._weighted_sum = 0.0
        self._weight = 0.0
        self.observed = 0

    def observe(self, error: float) -> None:
        self.scale.observe(error)
        self._weighted_sum = self._decay * self._weighted_sum + abs(error)
        self._weight = self._decay * self._weight + 1.0
        self.observed += 1

    @property
    def error_average(self) -> float:
        """Exponentially weighted mean absolute error (unbiased from the first observation)."""
        return self._weighted_sum / self._weight if self._weight else math.inf


class SeasonalBaselineDetector:
    """Scores points against a robust seasonal forecast.

    For each configured period it keeps, per time-of-period slot, the values of the last few cycles; the
    forecast is the slot median plus the median recent offset from it (so a seasonal pattern that moved up or
    down as a whole is followed quickly).  A non-seasonal forecast (median of the last few points) competes
    with the seasonal ones; the detector only scores while a seasonal forecast has the lower recent error,
    i.e. while the series really is seasonal.  Otherwise it returns score 0 and the non-seasonal band.
    """

    name = "seasonal"

    def __init__(self, config: SeasonalConfig | None = None) -> None:
        self.config = config or SeasonalConfig()
        cfg = self.config
        self._profiles = [_SeasonalProfile(p, cfg) for p in cfg.periods_seconds]
        decay = math.exp(-math.log(2.0) / cfg.selection_half_life_points)
        self._candidates = [_Candidate(cfg.error_points, decay) for _ in range(len(self._profiles) + 1)]
        self._recent: deque[float] = deque(maxlen=cfg.level_points)
        self._calibrator = TailCalibrator.from_config(cfg.calibration)
        self.seasonal_active = False

    def update(self, timestamp: float, value: float) -> AnomalyResult:
        cfg = self.config
        forecasts: list[float | None] = [median(self._recent) if self._recent else None]
        profiles: list[float | None] = [None]
        for profile in self._profiles:
            forecast, slot_profile = profile.forecast(timestamp)
            forecasts.append(forecast)
            profiles.append(slot_profile)

        best = self._best_candidate()
        self.seasonal_active = best > 0
        expected = forecasts[best]
        result = AnomalyResult(timestamp=timestamp, value=value, score=0.0)
        if expected is not None:
            sigma = self._candidates[best].scale.sigma(expected)
            half_width = cfg.band_z * sigma
            probability = 1.0
            if best > 0:
                surprise = signed_surprise(value - expected, sigma, cfg.direction)
                probability = self._calibrator.score_and_observe(surprise)
            score = probability_to_score(probability, cfg.calibration.full_scale_log10)
            result = AnomalyResult.banded(
                self.name, timestamp, value, score, expected, half_width, probability
            )

        for candidate, forecast in zip(self._candidates, forecasts, strict=True):
            if forecast is None:
                continue
            candidate.observe(value - forecast)
        for profile, slot_profile in zip(self._profiles, profiles[1:], strict=True):
            profile.learn(timestamp, value, slot_profile)
        self._recent.append(value)
        return result

    def _best_candidate(self) -> int:
        """Index of the forecast with the lowest recent error (0 is the non-seasonal one)."""
        min_history = self.config.level_points * 4
        best = 0
        best_error = self._candidates[0].error_average
        for index in range(1, len(self._candidates)):
            candidate = self._candidates[index]
            if candidate.observed >= min_history and candidate.error_average < best_error:
                best, best_error = index, candidate.error_average
        return best
