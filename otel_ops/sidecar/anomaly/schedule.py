"""Missed runs: a job that runs on a schedule stops running."""

from __future__ import annotations

import itertools
import math
from collections import deque
from statistics import median

from otel_ops.sidecar.anomaly.absence import BurstAbsenceDetector
from otel_ops.sidecar.anomaly.config import ScheduleConfig
from otel_ops.sidecar.anomaly.rolling import SortedWindow
from otel_ops.sidecar.anomaly.unbanded import UnbandedDetector

# A schedule repeats every three points or more: on a denser one "a run" and "the quiet between runs"
# are single points, which is no schedule to keep.
MIN_PERIOD_POINTS = 3
# A run starting one point before or after its slot is on schedule (a scrape a little early or late).
SLOT_TOLERANCE_POINTS = 1
# Starts keep a schedule when that many in the slot would happen by chance less often than this, were they
# spaced at random (a slot of three points in a period of four holds most starts by chance).
SCHEDULE_CHANCE = 1e-6


def _binomial_tail(successes: int, trials: int, chance: float) -> float:
    """The chance of at least ``successes`` of ``trials`` events of probability ``chance`` each."""
    miss = 1.0 - chance
    return sum(math.comb(trials, k) * chance**k * miss ** (trials - k) for k in range(successes, trials + 1))


class MissedRunDetector(UnbandedDetector):
    """Scores runs of a scheduled job that do not come.

    An hourly job scraped every 5 minutes shows one active point an hour. The absence detectors judge
    how long a silence lasts against the series' own silences, which cannot tell a job that stopped from
    one that skipped a run or two before; a schedule can. Runs are the bursts of activity the activity
    absence detector sees (``runs``, scored just before this detector on every point): a run starts at an
    active point after an inactive one.

    * Schedule: over the last ``4 * min_runs`` run starts in the window, the spacing is the median
      interval (three points or more) and the slot is the phase that most starts share, give or take a
      point. The series is on a schedule while ``on_schedule_share`` of those starts (``min_runs`` at
      least) fall in its slot, and that many would fall there by chance less than once in a million
      times (a slot of three points in a spacing of four holds most starts however they come).
    * A due slot with no activity is a missed run. Its value is ranked among the values at the slots of
      the last week (runs and earlier misses): ``p = (values at most it + 1) / (slots + 1)``.
      ``k`` misses in a row, the largest of their ``p`` being ``P``, have the chance ``P ** k`` (each run
      that small or smaller); the misses of the streak are not in the history it is judged against.
    * One test per slot, not per point: the chance is divided by the spacing, so the ensemble compares it
      with its other detectors per point, as for them. An hourly job on 5-minute points alerts at its second
      or third missed run; the first is a late or skipped run as often as not.

    A run on schedule is no spike: while it lasts, ``run_tail`` is the chance of a run at least this large
    among the slot's past values, and the ensemble lets the fast spike detector claim no more surprise
    (a job's run is its usual burst, not a jump from the quiet points before it). Value novelty still
    judges a run larger than any of the week, among runs: its chance, a share of all points, is
    multiplied by ``points_per_run_point`` (a week of an hourly job on 5-minute points holds 168 runs, not
    2016 chances of a record).

    A run that comes ends the streak, in its slot or out of it: a job moved to another minute leaves one
    missed slot between its runs at most, until most runs are off the old slot and the schedule is fitted
    again or dropped.
    """

    def __init__(self, config: ScheduleConfig, runs: BurstAbsenceDetector) -> None:
        self.config = config
        self.name = "missed_run"
        self.full_scale_log10 = config.full_scale_log10
        self._runs = runs
        self._window = runs.config.window_points
        self._starts: deque[int] = deque(maxlen=4 * config.min_runs)
        self._index = 0
        self._previous_active = False
        self._period = 0  # 0: no schedule
        self._slot = 0  # a due slot is an index with index % period == slot
        self._slot_values: SortedWindow | None = None
        self._streak: list[float] = []  # values of the missed runs in a row
        self._streak_largest = 0.0  # the largest p among them
        self.testing = False  # whether the last point was a due slot judged (the ensemble counts tests)
        self.run_tail: float | None = None  # at a point of a run on schedule: how rare a run this large is
        self._run_on_schedule = False
        self._run_length = 0  # points of the run in progress
        self._run_lengths: deque[int] = deque(maxlen=config.min_runs)  # of the last runs on schedule

    @property
    def period_points(self) -> int:
        """The spacing of the runs in points, 0 while the series is not on a schedule."""
        return self._period

    @property
    def points_per_run_point(self) -> float:
        """Points of the series per point of a scheduled run (the spacing over a run's usual length)."""
        lengths = self._run_lengths
        return self._period * len(lengths) / sum(lengths) if lengths else float(self._period)

    def probability(self, timestamp: float, value: float) -> float:
        index = self._index
        self._index = index + 1
        active = self._runs.active_now
        self.testing = False
        self.run_tail = None
        if not active and not self._previous_active and not self._period:
            return 1.0  # the common case: quiet, and no schedule to keep
        if active and not self._previous_active:
            self._add_start(index)
            self._run_on_schedule = self._on_slot(index)
            self._run_length = 0
        elif not active and self._previous_active and self._run_on_schedule:
            self._run_lengths.append(self._run_length)
        if active:
            self._run_length += 1
        self._previous_active = active
        period = self._period
        slot_values = self._slot_values
        if (
            active
            and self._run_on_schedule
            and slot_values is not None
            and len(slot_values) >= self.config.min_runs
        ):
            self.run_tail = (slot_values.count_at_least(slot_values.kept(value)) + 1) / (len(slot_values) + 1)
        if not period or index % period != self._slot or not self._runs.bursty:
            if active and self._streak:
                self._end_streak()
            return 1.0
        assert slot_values is not None
        if active:
            if self._streak:
                self._end_streak()
            slot_values.push(value)
            return 1.0
        kept = slot_values.kept(value)
        slots = len(slot_values)
        if slots < self.config.min_runs:
            slot_values.push(value)
            return 1.0
        self.testing = True
        p = (slots - slot_values.count_above(kept) + 1) / (slots + 1)
        self._streak.append(value)
        self._streak_largest = max(self._streak_largest, p)
        log10_chance = len(self._streak) * math.log10(self._streak_largest)
        return 10.0**log10_chance / period

    def _on_slot(self, index: int) -> bool:
        period = self._period
        if not period:
            return False
        offset = (index - self._slot) % period
        return min(offset, period - offset) <= SLOT_TOLERANCE_POINTS

    def _end_streak(self) -> None:
        """A run came: the misses of the streak join the slot's history."""
        if self._slot_values is not None:
            for value in self._streak:
                self._slot_values.push(value)
        self._clear_streak()

    def _clear_streak(self) -> None:
        self._streak.clear()
        self._streak_largest = 0.0

    def _add_start(self, index: int) -> None:
        starts = self._starts
        starts.append(index)
        while starts and starts[0] < index - self._window:
            starts.popleft()
        if len(starts) < self.config.min_runs:
            self._drop_schedule()
            return
        period = round(median(b - a for a, b in itertools.pairwise(starts)))
        if period < MIN_PERIOD_POINTS:
            self._drop_schedule()
            return
        phases = [0] * period
        for start in starts:
            phases[start % period] += 1
        tolerance = range(-SLOT_TOLERANCE_POINTS, SLOT_TOLERANCE_POINTS + 1)
        near = [sum(phases[(phase + d) % period] for d in tolerance) for phase in range(period)]
        on_slot = max(near)
        if (
            on_slot < max(self.config.min_runs, self.config.on_schedule_share * len(starts))
            or _binomial_tail(on_slot, len(starts), min(1.0, len(tolerance) / period)) > SCHEDULE_CHANCE
        ):
            self._drop_schedule()
            return
        slot = phases.index(max(phases))
        if period != self._period or slot != self._slot:
            self._period, self._slot = period, slot
            self._slot_values = SortedWindow(max(self.config.min_runs, self._window // period), "f")
            self._clear_streak()

    def _drop_schedule(self) -> None:
        self._period = 0
        self._slot_values = None
        self._clear_streak()
