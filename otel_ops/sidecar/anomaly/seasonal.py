"""Robust seasonal baseline detector (time of day / time of week)."""

from __future__ import annotations

import math
from array import array
from collections import deque
from statistics import median

from otel_ops.sidecar.anomaly.config import SeasonalConfig
from otel_ops.sidecar.anomaly.result import AnomalyResult
from otel_ops.sidecar.anomaly.robust_scale import ErrorScale
from otel_ops.sidecar.anomaly.rolling import to_single
from otel_ops.sidecar.anomaly.signed_surprise import signed_surprise
from otel_ops.sidecar.anomaly.tail_calibration import TailCalibrator, probability_to_score

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class _SeasonalProfile:
    """Recent values per time-of-period slot, and a robust level offset against them.

    Points are learnt per learning interval (``learn_seconds``, whatever the series' step): the median of the
    interval's points, as one value at the interval's start. A slot therefore holds at most
    ``ceil(slot_seconds / learn_seconds)`` values per kept cycle whatever the series' step. The profile keeps
    every slot in flat C arrays instead of an object per slot (a job keeps 384 slots per series, a day and a
    week of 30-minute slots): a slot's values in time order (in single precision), and the runs of cycles
    they were seen in.
    """

    __slots__ = (
        "_block",
        "_block_index",
        "_capacity",
        "_cycle_origin",
        "_cycles_kept",
        "_learn_seconds",
        "_max_values",
        "_medians",
        "_min_cycles",
        "_offsets",
        "_per_cycle",
        "_period",
        "_run_counts",
        "_run_cycles",
        "_runs",
        "_sizes",
        "_slot_seconds",
        "_values",
    )

    def __init__(self, period_seconds: int, config: SeasonalConfig) -> None:
        self._period = period_seconds
        self._slot_seconds = config.slot_seconds
        self._cycles_kept = kept = config.cycles_kept
        self._min_cycles = config.min_cycles
        self._max_values = config.max_values_per_slot
        self._learn_seconds = config.learn_seconds
        self._per_cycle = max(1, math.ceil(config.slot_seconds / config.learn_seconds))
        self._capacity = min(kept * self._per_cycle, self._max_values)
        slots = -(-period_seconds // config.slot_seconds)
        self._values = array("f", [0.0]) * (slots * self._capacity)  # per slot, oldest first
        self._sizes = array("H", [0]) * slots
        # Per slot, ``cycle, count`` runs, oldest first; cycles counted from the first one learnt (4 bytes).
        self._run_cycles = array("i", [0]) * (slots * kept)
        self._cycle_origin: int | None = None
        self._run_counts = array("H", [0]) * (slots * kept)
        self._runs = array("H", [0]) * slots
        self._medians = array("f", [0.0]) * slots  # kept up to date as the slot learns, in single precision
        self._offsets: deque[float] = deque(maxlen=config.level_points)
        self._block: list[float] = []  # points of the learning interval in progress
        self._block_index = 0.0

    def _locate(self, timestamp: float) -> tuple[int, int]:
        cycle, phase = divmod(timestamp, self._period)
        return int(phase // self._slot_seconds), int(cycle)

    def advance(self, timestamp: float) -> None:
        """Learn the finished interval once a point of another one arrives (before it is forecast)."""
        block_index = timestamp // self._learn_seconds
        block = self._block
        if block and block_index != self._block_index:
            learnt = block[0] if len(block) == 1 else median(block)
            self._store(self._block_index * self._learn_seconds, learnt)
            block.clear()
        self._block_index = block_index

    def forecast(self, timestamp: float) -> tuple[float | None, float | None]:
        """(forecast, slot profile) for this timestamp, or (None, None) while the slot is not learned."""
        index, cycle = self._locate(timestamp)
        if not self._runs[index]:
            return None, None
        assert self._cycle_origin is not None  # set by the first value learnt
        if self._run_cycles[index * self._cycles_kept] > cycle - self._cycle_origin - self._min_cycles:
            return None, None
        profile = self._medians[index]
        offset = median(self._offsets) if self._offsets else 0.0
        return profile + offset, profile

    def learn(self, timestamp: float, value: float, profile: float | None) -> None:
        """Add a point (after :meth:`advance` and :meth:`forecast` for its timestamp)."""
        if profile is not None:
            self._offsets.append(value - profile)
        self._block.append(value)

    def _store(self, timestamp: float, value: float) -> None:
        index, cycle = self._locate(timestamp)
        origin = self._cycle_origin
        if origin is None or not _INT32_MIN <= cycle - origin <= _INT32_MAX:
            self._restart(cycle)  # the first value, or a clock that moved by decades: nothing learnt holds
            origin = cycle
        cycle -= origin
        first_run = index * self._cycles_kept
        run_cycles, run_counts = self._run_cycles, self._run_counts
        while self._runs[index] and run_cycles[first_run] <= cycle - self._cycles_kept:
            self._drop(index, run_counts[first_run])  # a cycle no longer kept
        if self._sizes[index] >= self._max_values:
            self._drop(index, 1)
        runs = self._runs[index]
        last = first_run + runs - 1
        if runs and run_cycles[last] == cycle:
            if run_counts[last] == self._per_cycle:  # more points than intervals in a slot: keep the latest
                self._drop_in_run(index, last)
            run_counts[last] += 1
        else:
            if runs == self._cycles_kept:  # the clock went back across cycles: the oldest cycle makes way
                self._drop(index, run_counts[first_run])
                runs -= 1
            run_cycles[first_run + runs], run_counts[first_run + runs] = cycle, 1
            self._runs[index] = runs + 1
        first, size = index * self._capacity, self._sizes[index]
        self._values[first + size] = value
        self._sizes[index] = size + 1
        self._medians[index] = median(self._values[first : first + size + 1])

    def _restart(self, cycle: int) -> None:
        """Forget every slot; cycles are counted from ``cycle`` on."""
        self._cycle_origin = cycle
        for counters in (self._sizes, self._runs):
            counters[:] = array(counters.typecode, [0]) * len(counters)

    def _drop(self, index: int, count: int) -> None:
        """Forget the slot's oldest ``count`` values (and the runs they empty)."""
        first, size = index * self._capacity, self._sizes[index]
        self._values[first : first + size - count] = self._values[first + count : first + size]
        self._sizes[index] = size - count
        first_run, runs = index * self._cycles_kept, self._runs[index]
        counts, cycles = self._run_counts, self._run_cycles
        while count:
            taken = min(count, counts[first_run])
            counts[first_run] -= taken
            count -= taken
            if not counts[first_run]:
                cycles[first_run : first_run + runs - 1] = cycles[first_run + 1 : first_run + runs]
                counts[first_run : first_run + runs - 1] = counts[first_run + 1 : first_run + runs]
                runs -= 1
        self._runs[index] = runs

    def _drop_in_run(self, index: int, run: int) -> None:
        """Forget the oldest value of one run (a cycle with more points than the slot has intervals)."""
        first_run, counts = index * self._cycles_kept, self._run_counts
        position = index * self._capacity + sum(counts[first_run:run])
        end = index * self._capacity + self._sizes[index]
        self._values[position : end - 1] = self._values[position + 1 : end]
        self._sizes[index] -= 1
        counts[run] -= 1


class _Candidate:
    """Error bookkeeping for one forecasting method."""

    __slots__ = ("_decay", "_weight", "_weighted_sum", "observed", "scale")

    def __init__(self, error_points: int, decay: float, block_points: int = 1) -> None:
        self.scale = ErrorScale(error_points, block_points)
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
        forecasts = len(self._profiles) + 1
        block = cfg.block_points
        self._candidates = [_Candidate(cfg.error_points, decay, block) for _ in range(forecasts)]
        self._recent: deque[float] = deque(maxlen=cfg.level_points)
        self._calibrator = TailCalibrator.from_config(cfg.calibration)
        self.seasonal_active = False

    def update(self, timestamp: float, value: float) -> AnomalyResult:
        cfg = self.config
        # The detector works on the series in single precision, as its slots keep it: a value that repeats
        # one seen before is still forecast without error.
        value = to_single(value)
        forecasts: list[float | None] = [median(self._recent) if self._recent else None]
        profiles: list[float | None] = [None]
        for profile in self._profiles:
            profile.advance(timestamp)
            forecast, slot_profile = profile.forecast(timestamp)
            forecasts.append(forecast)
            profiles.append(slot_profile)

        best = self._best_candidate()
        self.seasonal_active = best > 0
        expected = forecasts[best]
        if expected is None:
            result = AnomalyResult(timestamp=timestamp, value=value, score=0.0)
        else:
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
