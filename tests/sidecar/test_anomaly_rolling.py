"""The detectors' rolling window answers like the last ``capacity`` values, sorted, at every step."""

from __future__ import annotations

import statistics

from hypothesis import given, settings
from hypothesis import strategies as st

from otel_ops.sidecar.anomaly.rolling import SortedWindow

values = st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 3)), min_size=1, max_size=200)


@settings(max_examples=150, deadline=None)
@given(values, st.integers(1, 40), st.floats(0.0, 1.0))
def test_window_matches_the_last_values(pushed: list[float], capacity: int, q: float) -> None:
    window = SortedWindow(capacity)
    for index, value in enumerate(pushed):
        evicted = window.push(value)
        assert evicted == (pushed[index - capacity] if index >= capacity else None)
        last = pushed[max(0, index + 1 - capacity) : index + 1]
        ordered = sorted(last)
        assert len(window) == len(last)
        assert window.median() == statistics.median(last)
        assert window.minimum() == ordered[0] and window.maximum() == ordered[-1]
        assert window.largest(3) == ordered[-3:]
        assert window.count_at_least(value) == sum(1 for v in last if v >= value)
        assert window.count_above(value) == sum(1 for v in last if v > value)
        target = value + 0.5
        assert window.nearest_distance(target) == min(abs(target - v) for v in last)
        assert window.oldest() == last[0]
        position = q * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        assert (
            abs(window.quantile(q) - (ordered[low] + (ordered[high] - ordered[low]) * (position - low)))
            <= 1e-6
        )
