"""Points as they really arrive: out of order, repeated, with gaps, clock steps and missing values.

Every point is scored in arrival order; nothing is refused.  :class:`ArrivalGuard` turns each arriving
``(timestamp, value)`` into the time the detectors see and notes what was odd about it:

* A timestamp earlier than the previous one (a clock stepped back, rows out of order): the detectors'
  clock does not go back.  The point is placed one usual step after the previous one and the clock keeps
  that offset (a clock that stepped back an hour stays an hour behind; the detectors' time of day does
  not jump), until the raw timestamps catch up with the detectors' time again (one row out of place).
* A repeated timestamp: scored at the same time as the previous point.
* A gap (more than ``GAP_STEPS`` usual steps since the previous point, or a clock stepped forward): scored
  at its own time; the detectors see time pass.  The usual step is the job's step when known, otherwise
  the median of the recent steps between points.
* A missing or non-finite value: no score (0) and nothing learnt, but its time still counts.

:class:`OddityTally` counts each kind (and the points a gap lost) so that callers can warn once, with
numbers, instead of failing or staying silent.  The live anomaly jobs and ``otel-ops anomaly score`` both
use this module.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from otel_ops.sidecar.anomaly.rolling import SortedWindow

GAP_STEPS = 1.5
STEP_HISTORY = 31


class Oddity(StrEnum):
    """What can be odd about an arriving point."""

    EARLIER = "earlier"
    REPEATED = "repeated"
    GAP = "gap"
    MISSING_VALUE = "missing_value"


# kind: (singular, plural, what it means)
_DESCRIPTIONS = {
    Oddity.EARLIER: (
        "timestamp earlier than the previous one",
        "timestamps earlier than the previous one",
        "clock stepped back or rows out of order; scored in arrival order",
    ),
    Oddity.REPEATED: ("repeated timestamp", "repeated timestamps", "scored in arrival order"),
    Oddity.GAP: ("gap", "gaps", "points missing or clock stepped forward"),
    Oddity.MISSING_VALUE: (
        "missing or non-finite value",
        "missing or non-finite values",
        "scored 0, not learnt",
    ),
}


@dataclass(frozen=True, slots=True)
class Arrival:
    """One point as the detectors should see it: ``value`` is None when there is nothing to score."""

    detector_time: float
    value: float | None
    oddities: tuple[Oddity, ...] = ()


@dataclass
class OddityTally:
    """How many points of each odd kind arrived, where the first one was, and how many points gaps lost."""

    counts: Counter[Oddity] = field(default_factory=Counter)
    first_at: dict[Oddity, str] = field(default_factory=dict)
    missing_points: int = 0

    def add(self, arrival: Arrival, where: str, missing_points: int = 0) -> None:
        for oddity in arrival.oddities:
            self.counts[oddity] += 1
            self.first_at.setdefault(oddity, where)
        self.missing_points += missing_points

    def __bool__(self) -> bool:
        return sum(self.counts.values()) > 0

    def as_dict(self) -> dict[str, int]:
        """Counts per kind (every kind present, zeros included), plus the points lost in gaps."""
        counts = {kind.value: self.counts.get(kind, 0) for kind in Oddity}
        counts["points_missing_in_gaps"] = self.missing_points
        return counts

    def summary(self) -> str:
        """Each kind seen, e.g. ``1 timestamp earlier than the previous one (first at line 9; ...)``."""
        parts = []
        for kind in Oddity:
            count = self.counts.get(kind, 0)
            if not count:
                continue
            singular, plural, meaning = _DESCRIPTIONS[kind]
            if kind is Oddity.GAP:
                meaning = f"about {self.missing_points} points missing, or the clock stepped forward"
            noun = singular if count == 1 else plural
            parts.append(f"{count} {noun} (first at {self.first_at[kind]}; {meaning})")
        return "; ".join(parts)


class ArrivalGuard:
    """Per-series state that maps arriving points to detector time (see the module docstring)."""

    __slots__ = ("_expected_step", "_last_raw", "_last_time", "_offset", "_steps", "last_missing_points")

    def __init__(self, expected_step: float | None = None) -> None:
        self._expected_step = expected_step if expected_step and expected_step > 0 else None
        self._steps = SortedWindow(STEP_HISTORY)
        self._last_time: float | None = None
        self._last_raw: float | None = None
        self._offset = 0.0
        self.last_missing_points = 0

    @property
    def usual_step(self) -> float | None:
        """The configured step, else the median recent step between points (None until one is seen)."""
        if self._expected_step is not None:
            return self._expected_step
        return self._steps.median() if len(self._steps) else None

    def admit(self, timestamp: float, value: float) -> Arrival:
        """Where this point goes in detector time, and what was odd about it."""
        oddities: list[Oddity] = []
        self.last_missing_points = 0
        scored_value: float | None = value
        if not math.isfinite(value):
            oddities.append(Oddity.MISSING_VALUE)
            scored_value = None

        previous, previous_raw = self._last_time, self._last_raw
        if previous is None or previous_raw is None:
            detector_time = timestamp
        else:
            if self._offset and timestamp >= previous:
                self._offset = 0.0  # the raw clock caught up: that was one row out of place
            detector_time = timestamp + self._offset
            step = self.usual_step
            if timestamp == previous_raw:
                oddities.append(Oddity.REPEATED)
                detector_time = previous
            elif detector_time < previous:
                oddities.append(Oddity.EARLIER)
                detector_time = previous + (step or 0.0)
                self._offset = detector_time - timestamp
            else:
                elapsed = detector_time - previous
                if step is not None and elapsed > GAP_STEPS * step:
                    oddities.append(Oddity.GAP)
                    self.last_missing_points = max(1, round(elapsed / step) - 1)
                elif elapsed > 0.0:
                    self._steps.push(elapsed)
        self._last_time, self._last_raw = detector_time, timestamp
        return Arrival(detector_time, scored_value, tuple(oddities))
