"""Seasonal slots in flat arrays hold exactly what a list per slot would, whatever the clock does."""

from __future__ import annotations

import random
from statistics import median

import pytest

from otel_ops.sidecar.anomaly.config import SeasonalConfig
from otel_ops.sidecar.anomaly.rolling import to_single
from otel_ops.sidecar.anomaly.seasonal import _SeasonalProfile

PERIOD = 86_400


class ListSlots:
    """The rules on ``(cycle, value)`` lists, one per slot, in arrival order."""

    def __init__(self, config: SeasonalConfig) -> None:
        self.config = config
        self.per_cycle = -(-config.slot_seconds // int(config.learn_seconds))
        self.slots: dict[int, list[tuple[int, float]]] = {}

    def store(self, timestamp: float, value: float) -> None:
        cycle, phase = divmod(int(timestamp), PERIOD)
        slot = self.slots.setdefault(phase // self.config.slot_seconds, [])
        while slot and slot[0][0] <= cycle - self.config.cycles_kept:
            slot.pop(0)
        if len(slot) >= self.config.max_values_per_slot:
            slot.pop(0)
        runs = [c for i, (c, _) in enumerate(slot) if i == 0 or slot[i - 1][0] != c]
        if slot and slot[-1][0] == cycle:
            run = [i for i, (c, _) in enumerate(slot) if c == cycle and all(d == cycle for d, _ in slot[i:])]
            if len(run) == self.per_cycle:
                slot.pop(run[0])
        elif len(runs) == self.config.cycles_kept:
            first = runs[0]
            while slot and slot[0][0] == first:
                slot.pop(0)
        slot.append((cycle, value))

    def forecast(self, timestamp: float) -> float | None:
        cycle, phase = divmod(int(timestamp), PERIOD)
        slot = self.slots.get(phase // self.config.slot_seconds)
        if not slot or slot[0][0] > cycle - self.config.min_cycles:
            return None
        return to_single(median(v for _, v in slot))  # kept in single precision, as the values


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_values", [64, 5])
def test_flat_slots_match_lists_under_jitter_repeats_and_clock_steps(seed: int, max_values: int) -> None:
    rng = random.Random(seed)
    config = SeasonalConfig(periods_seconds=(PERIOD,), max_values_per_slot=max_values, level_points=1)
    profile, reference = _SeasonalProfile(PERIOD, config), ListSlots(config)
    timestamp = 1_700_006_400.0
    for _ in range(6_000):
        step = rng.choice([300.0] * 20 + [0.0, 60.0, 137.0, -300.0, -3 * 3600.0, -2 * PERIOD, 4 * 3600.0])
        timestamp += step
        value = to_single(rng.gauss(50.0, 5.0))  # slots keep single precision
        profile._store(timestamp, value)
        reference.store(timestamp, value)
        probe = timestamp + rng.choice([0.0, 900.0, PERIOD, 2 * PERIOD])
        expected = reference.forecast(probe)
        _, slot_profile = profile.forecast(probe)
        assert slot_profile == expected


def test_a_clock_that_jumps_further_than_cycles_are_counted_starts_the_profile_over() -> None:
    """Cycles are counted in 4 bytes from the first one learnt; a timestamp more cycles away than that
    (a millisecond timestamp read as seconds on a 1-minute period) forgets the slots instead of failing."""
    period = 60
    config = SeasonalConfig(periods_seconds=(period,), slot_seconds=60, learn_seconds=60, min_cycles=2)
    profile = _SeasonalProfile(period, config)
    start = 1_700_006_400.0
    for i in range(10):
        profile._store(start + i * period, 5.0)
    assert profile.forecast(start + 10 * period) == (5.0, 5.0)
    far = start * 1000.0  # about 2.8e10 one-minute cycles later
    profile._store(far, 7.0)
    assert profile.forecast(far + period) == (None, None)  # one cycle learnt since the jump
    profile._store(far + period, 7.0)
    assert profile.forecast(far + 2 * period) == (7.0, 7.0)
