"""The detectors' rolling window answers like the last ``capacity`` values, sorted, at every step."""

from __future__ import annotations

import statistics
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_ops.sidecar.anomaly.rolling import (
    CompactSortedWindow,
    IntQueue,
    MaximumRing,
    Ring,
    SortedWindow,
    sorted_window,
)

values = st.lists(
    st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 3)),
        st.sampled_from([0.0, -0.0, 1.0, 2.0]),  # ties: a quantised series, zero of either sign
    ),
    min_size=1,
    max_size=200,
)


@pytest.mark.parametrize("window_class", [SortedWindow, CompactSortedWindow])
@settings(max_examples=150, deadline=None)
@given(pushed=values, capacity=st.integers(1, 40), q=st.floats(0.0, 1.0))
def test_window_matches_the_last_values(
    window_class: type[SortedWindow], pushed: list[float], capacity: int, q: float
) -> None:
    window = window_class(capacity)
    for index, value in enumerate(pushed):
        evicted = window.push(value)
        assert evicted == (pushed[index - capacity] if index >= capacity else None)
        last = pushed[max(0, index + 1 - capacity) : index + 1]
        ordered = sorted(last)
        assert len(window) == len(last)
        assert window.median() == statistics.median(last)
        assert window.minimum() == ordered[0] and window.maximum() == ordered[-1]
        assert window.largest(3) == ordered[-3:] and window.smallest(2) == ordered[:2]
        assert window.count_at_least(value) == sum(1 for v in last if v >= value)
        assert window.count_above(value) == sum(1 for v in last if v > value)
        target = value + 0.5
        assert window.nearest_distance(target) == min(abs(target - v) for v in last)
        below = [v for v in last if v < value]
        assert window.gap_below(value) == (value - max(below) if below else float("inf"))
        assert window.oldest() == last[0]
        position = q * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        assert (
            abs(window.quantile(q) - (ordered[low] + (ordered[high] - ordered[low]) * (position - low)))
            <= 1e-6
        )


def single(value: float) -> float:
    """``value`` rounded to single precision (beyond its range, to its largest finite value)."""
    return float(np.float32(min(max(value, -3.4028234663852886e38), 3.4028234663852886e38)))


@pytest.mark.parametrize("window_class", [SortedWindow, CompactSortedWindow])
@settings(max_examples=150, deadline=None)
@given(
    pushed=st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),  # beyond single precision's range too
            st.sampled_from([0.1, 0.1 + 1e-12, 0.0, 7.0]),  # equal once rounded
        ),
        min_size=1,
        max_size=200,
    ),
    capacity=st.integers(1, 40),
)
def test_a_single_precision_window_answers_about_its_rounded_values(
    window_class: type[SortedWindow], pushed: list[float], capacity: int
) -> None:
    """Each value is kept rounded to single precision, so equal-once-rounded values tie (and a compact
    window still evicts the oldest of them), and no value becomes infinite."""
    window, doubles = window_class(capacity, "f"), window_class(capacity)
    for value in pushed:
        assert window.push(value) == doubles.push(single(value))
        assert window.kept(value) == single(value)
        assert len(window) == len(doubles) and window.median() == doubles.median()
        assert window.largest(4) == doubles.largest(4) and window.smallest(4) == doubles.smallest(4)
        assert window.count_at_least(window.kept(value)) == doubles.count_at_least(single(value))
        assert abs(window.maximum()) < float("inf") and abs(window.minimum()) < float("inf")


def window_bytes(window: SortedWindow) -> int:
    return sum(sys.getsizeof(getattr(window, name, b"")) for name in ("_arrivals", "_sorted", "_order"))


@pytest.mark.parametrize("capacity", [720, 2016])  # the tail calibrators' histories
def test_a_single_precision_window_takes_half_the_memory(capacity: int) -> None:
    window, doubles = sorted_window(capacity, "f"), sorted_window(capacity)
    for value in np.random.default_rng(4).exponential(1.0, capacity).tolist():
        window.push(value)
        doubles.push(value)
    assert window_bytes(window) < 0.55 * window_bytes(doubles)


def test_an_error_scale_in_blocks_measures_the_same_spread() -> None:
    # A day of 1-minute errors kept as 288 medians of five: the robust scale is that of every error, and a
    # quantised series (most errors exactly zero) still falls back to their mean magnitude.
    from otel_ops.sidecar.anomaly.robust_scale import ErrorScale

    rng = np.random.default_rng(5)
    errors = rng.normal(0.0, 2.0, 1440).tolist()
    every_error, blocks = ErrorScale(1440), ErrorScale(288, block_points=5)
    for error in errors:
        every_error.observe(error)
        blocks.observe(error)
    assert len(blocks) == 288
    assert blocks.sigma(0.0) == pytest.approx(every_error.sigma(0.0), rel=0.1)
    assert blocks.sigma(0.0) == pytest.approx(2.0, rel=0.15)

    quantised = [0.0] * 4 + [3.0]  # four of five errors are zero: the median magnitude is 0
    every_error, blocks = ErrorScale(1440), ErrorScale(288, block_points=5)
    for error in quantised * 600:  # more than the window: the oldest blocks leave it
        every_error.observe(error)
        blocks.observe(error)
    assert blocks.sigma(0.0) == pytest.approx(every_error.sigma(0.0))


def test_an_error_scale_in_single_precision_keeps_its_running_sum_exact() -> None:
    """Magnitudes are kept in single precision and summed as kept: with most errors zero the scale is the
    mean magnitude of the window, after thousands of errors left it as much as before."""
    from otel_ops.sidecar.anomaly.robust_scale import MEAN_ABS_TO_SIGMA, ErrorScale

    scale = ErrorScale(100)
    stream = ([1234567.1] + [0.0] * 60) * 500  # 1234567.1 has no exact single-precision form
    for error in stream:
        scale.observe(error)
    expected = MEAN_ABS_TO_SIGMA * sum(single(e) for e in stream[-100:]) / 100
    assert scale.sigma(0.0) == pytest.approx(expected, rel=1e-12)


def test_blocks_hand_over_each_complete_block_once() -> None:
    from otel_ops.sidecar.anomaly.rolling import Blocks

    blocks = Blocks(3)
    handed = [list(block) for value in range(8) if (block := blocks.add(float(value))) is not None]
    assert handed == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]  # 6 and 7 wait for their block to fill


def test_ring_keeps_the_last_values_and_returns_the_one_it_overwrites() -> None:
    ring = Ring(3)
    assert [ring.push(v) for v in (4.0, -1.0, 9.0, 2.0, 7.0)] == [None, None, None, 4.0, -1.0]
    assert len(ring) == 3 and (ring.minimum(), ring.maximum()) == (2.0, 9.0)
    assert ring.push(0.5) == 9.0 and ring.maximum() == 7.0
    with pytest.raises(ValueError, match="capacity"):
        Ring(0)
    single_ring = Ring(2, "f")
    assert [single_ring.push(v) for v in (0.1, 0.2, 0.3)] == [None, None, single(0.1)]
    assert single_ring.maximum() == single(0.3)


def test_large_windows_keep_their_order_as_ring_positions() -> None:
    """A week of 1-minute values costs 10 bytes per value instead of 16, with the same answers."""
    assert type(sorted_window(10_080)) is CompactSortedWindow and type(sorted_window(288)) is SortedWindow
    rng = np.random.default_rng(2)
    pushed = np.round(rng.normal(0.0, 1.0, 30_000), 1).tolist()  # many ties
    compact, plain = CompactSortedWindow(10_080), SortedWindow(10_080)
    for value in pushed:
        assert compact.push(value) == plain.push(value)
    for q in (0.0, 0.25, 0.5, 0.99, 1.0):
        assert compact.quantile(q) == plain.quantile(q)
    assert compact.median() == plain.median() and compact.nearest_distance(0.05) == plain.nearest_distance(
        0.05
    )
    compact_bytes = sys.getsizeof(compact._arrivals) + sys.getsizeof(compact._order)
    plain_bytes = sys.getsizeof(plain._arrivals) + sys.getsizeof(plain._sorted)
    assert compact_bytes < 0.7 * plain_bytes


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2**40), st.none()), max_size=2000))
def test_int_queue_is_first_in_first_out_across_compactions(operations: list[int | None]) -> None:
    """``None`` pops; anything else is appended. The queue answers like a deque throughout."""
    from collections import deque

    queue, reference = IntQueue(), deque[int]()
    for operation in operations:
        if operation is None:
            if reference:
                assert queue.popleft() == reference.popleft()
            else:
                with pytest.raises(IndexError):
                    queue.popleft()
        else:
            queue.append(operation)
            reference.append(operation)
        assert len(queue) == len(reference) and bool(queue) == bool(reference)
        assert (queue.first() if queue else None) == (reference[0] if reference else None)
    assert list(queue) == list(reference)


def test_int_queue_moves_what_is_left_to_the_front_once_half_was_popped() -> None:
    queue = IntQueue()
    for i in range(1000):
        queue.append(i)
    assert [queue.popleft() for _ in range(499)] == list(range(499))
    assert len(queue._items) == 1000  # not yet half popped
    assert queue.popleft() == 499
    assert len(queue._items) == 500 and queue.first() == 500  # compacted: the popped half is gone
    queue.append(1000)
    assert list(queue) == list(range(500, 1001))


@pytest.mark.parametrize("typecode", ["d", "f"])
@settings(max_examples=150, deadline=None)
@given(pushed=values, capacity=st.integers(1, 40))
def test_a_maximum_ring_knows_the_largest_of_its_values_as_they_come_and_go(
    typecode: str, pushed: list[float], capacity: int
) -> None:
    ring, plain = MaximumRing(capacity, typecode), Ring(capacity, typecode)
    with pytest.raises(ValueError):
        ring.maximum()
    for value in pushed:
        assert ring.push(value) == plain.push(value)
        assert ring.maximum() == plain.maximum()  # a pass over the ring's values, as kept
