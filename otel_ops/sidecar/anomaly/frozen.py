"""Frozen value: a gauge that keeps repeating exactly the same value."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, insort

from otel_ops.sidecar.anomaly.config import FrozenConfig
from otel_ops.sidecar.anomaly.rolling import IntQueue
from otel_ops.sidecar.anomaly.unbanded import UnbandedDetector


class RunLengths:
    """Lengths of the finished runs of repeated values (two points or more) that started in a window."""

    __slots__ = ("_lengths", "_sorted", "_starts")

    def __init__(self) -> None:
        self._starts = IntQueue()  # index of each run's first point, oldest first
        self._lengths = IntQueue()  # and its length
        self._sorted = array("l")

    def __len__(self) -> int:
        return len(self._sorted)

    def add(self, start: int, length: int) -> None:
        self._starts.append(start)
        self._lengths.append(length)
        insort(self._sorted, length)

    def forget_before(self, horizon: int) -> None:
        starts, ordered = self._starts, self._sorted
        while starts and starts.first() < horizon:
            starts.popleft()
            del ordered[bisect_left(ordered, self._lengths.popleft())]

    def count_at_least(self, length: int) -> int:
        return len(self._sorted) - bisect_left(self._sorted, length)

    def longest_length(self) -> int:
        """The longest run's length, 1 when no value was repeated."""
        return self._sorted[-1] if self._sorted else 1

    def longest(self, k: int) -> list[int]:
        return list(self._sorted[-k:]) if k > 0 else []


class FrozenValueDetector(UnbandedDetector):
    """Scores a value repeated exactly for longer than the series' own runs of repeats make likely.

    A stuck exporter or a frozen gauge keeps reporting its last value: no value is unusual, the
    repetition is.  Over the last ``window_points`` points:

    * Only series that normally change are judged: at most ``max_repeat_share`` of the points may repeat
      the previous value, so flat lines and counters that mostly sit at zero never are.
    * A run is a stretch of identical values.  Its chance of lasting at least ``L`` points comes from the
      series' own finished runs (the current one is never judged against itself), as peaks over a
      threshold with a geometric tail: the ``tail_runs`` longest runs of two points or more, of which the
      shortest has ``m`` points, give the share ``S`` of runs that reach ``m`` and the chance ``g`` that a
      run that long continues one more point; ``P(L) = S * g ** (L - m)``.  ``S`` is Laplace-smoothed and
      ``g`` is smoothed by one pseudo-run twice as long as ``m``, so that runs of one identical length do
      not make a slightly longer one impossible: on a series that never repeated a value
      (``S = 1 / (runs + 2)``, ``m = 2``, ``g = 2/3``) a handful of repeats is already surprising; a series
      whose longest runs vary widely extrapolates its tail slowly.
    * A run is judged only from ``min_run_points`` on (a value exported twice is a hiccup) and once it is
      ``longer_than_longest`` times longer than the longest finished run of the window: a run that sets a
      new record by a point or two is as common as any new record, a frozen gauge is far longer.

    It gives no expected band.
    """

    name = "frozen"

    def __init__(self, config: FrozenConfig | None = None) -> None:
        self.config = config or FrozenConfig()
        self.full_scale_log10 = self.config.full_scale_log10
        self._repeats = IntQueue()  # indices of points equal to the previous one, in the window
        self._runs = RunLengths()
        self._index = 0
        self._previous: float | None = None
        self._run_start = 0

    @property
    def run_start(self) -> int:
        """Index of the first point of the current run of identical values."""
        return self._run_start

    def probability(self, timestamp: float, value: float) -> float:
        cfg = self.config
        index = self._index
        self._index += 1
        horizon = index - cfg.window_points
        repeats = self._repeats
        while repeats and repeats.first() <= horizon:
            repeats.popleft()
        self._runs.forget_before(horizon + 1)

        if value == self._previous:
            repeats.append(index)
        else:
            length = index - self._run_start
            if length >= 2:
                self._runs.add(self._run_start, length)
            self._run_start = index
        self._previous = value

        probability = 1.0
        length = index - self._run_start + 1
        seen = min(index + 1, cfg.window_points)
        judged = (
            index + 1 >= cfg.min_points
            and length >= cfg.min_run_points
            and length >= cfg.longer_than_longest * self._runs.longest_length()
            and len(repeats) <= cfg.max_repeat_share * seen
        )
        if judged:
            # Finished runs that started in the window: every point starts a run or repeats a value.
            finished = max(seen - len(repeats) - 1, 0)
            probability = self._run_probability(length, finished)
        return probability

    def _run_probability(self, length: int, finished: int) -> float:
        """Chance that a run lasts at least ``length`` points, from ``finished`` runs' lengths."""
        runs = self._runs
        tail = runs.longest(self.config.tail_runs)
        shortest = tail[0] if tail else 2  # at most ``length``: a judged run is longer than any finished one
        reach = (runs.count_at_least(shortest) + 1) / (finished + 2)
        continued = sum(tail) - len(tail) * shortest
        # The geometric tail's estimate, smoothed by one pseudo-run twice as long as the shortest of the tail.
        carry_on = (continued + shortest) / (continued + shortest + len(tail) + 1)
        return min(1.0, reach * math.exp((length - shortest) * math.log(carry_on)))
