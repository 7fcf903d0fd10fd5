"""Bounded rolling windows with order statistics, for streaming robust estimates."""

from __future__ import annotations

import math
import struct
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator

FLOAT32_MAX = 3.4028234663852886e38  # the largest finite single-precision value
# The week of a series' values that value novelty and the absence detectors keep is in single precision
# (half the memory): values closer than about 6e-8 of their magnitude look equal to them.
VALUES_TYPECODE = "f"
_SINGLE = struct.Struct("f")
_pack_single, _unpack_single = _SINGLE.pack, _SINGLE.unpack


def to_single(value: float) -> float:
    """``value`` rounded to single precision, within its finite range (as a float array keeps it)."""
    single = _unpack_single(_pack_single(value))[0]
    return single if abs(single) != math.inf else math.copysign(FLOAT32_MAX, single)


class SortedWindow:
    """The last ``capacity`` values, kept both in arrival order (a ring) and sorted.

    Insertion and eviction cost O(log n) comparisons plus a memmove of the sorted array, which is negligible
    for the few thousand values the detectors keep; order statistics are O(1).  Values are stored as C
    doubles (16 bytes per value for both orders, instead of about 40 as Python floats in a list and a deque).

    ``typecode="f"`` keeps single precision (8 bytes per value): each value is rounded to it when pushed
    (:func:`to_single`), and every answer is about the rounded values; callers compare a new value as
    :meth:`kept`, so that it ties with its equals.  Surprises need no more than their first digits; a series'
    own values lose changes smaller than about 1e-7 of their level (a trade the README lists).
    """

    __slots__ = ("_arrivals", "_capacity", "_head", "_single", "_sorted")

    def __init__(self, capacity: int, typecode: str = "d") -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        if typecode not in ("d", "f"):
            raise ValueError("typecode must be 'd' (double) or 'f' (single precision)")
        self._capacity = capacity
        # Grows to capacity, then a ring whose oldest value is at _head.
        self._arrivals: array[float] = array(typecode)
        self._head = 0
        self._sorted: array[float] = array(typecode)
        self._single = typecode == "f"  # values are rounded as they are kept

    def __len__(self) -> int:
        return len(self._sorted)

    @property
    def capacity(self) -> int:
        return self._capacity

    def push(self, value: float) -> float | None:
        """Add a value; when the window is full, evict the oldest one and return it."""
        if self._single:
            value = to_single(value)
        arrivals = self._arrivals
        evicted = None
        if len(arrivals) == self._capacity:
            head = self._head
            evicted = arrivals[head]
            del self._sorted[bisect_left(self._sorted, evicted)]
            arrivals[head] = value
            self._head = (head + 1) % self._capacity
        else:
            arrivals.append(value)
        insort(self._sorted, value)
        return evicted

    def kept(self, value: float) -> float:
        """``value`` as this window keeps it (rounded to single precision, or as it is)."""
        return to_single(value) if self._single else value

    def median(self) -> float:
        values = self._sorted
        n = len(values)
        if n == 0:
            raise ValueError("median of an empty window")
        mid = n // 2
        if n % 2:
            return values[mid]
        return 0.5 * (values[mid - 1] + values[mid])

    def quantile(self, q: float) -> float:
        """Linear-interpolated quantile, ``0 <= q <= 1``."""
        values = self._sorted
        n = len(values)
        if n == 0:
            raise ValueError("quantile of an empty window")
        position = q * (n - 1)
        low = int(position)
        if low >= n - 1:
            return values[-1]
        fraction = position - low
        return values[low] + (values[low + 1] - values[low]) * fraction

    def nearest_distance(self, value: float) -> float:
        """Distance from ``value`` to the closest value in the window (``inf`` when it is empty)."""
        values = self._sorted
        i = bisect_left(values, value)
        below = value - values[i - 1] if i > 0 else math.inf
        above = values[i] - value if i < len(values) else math.inf
        return min(below, above)

    def count_at_least(self, value: float) -> int:
        return len(self._sorted) - bisect_left(self._sorted, value)

    def gap_below(self, value: float) -> float:
        """How far ``value`` lies above the largest value below it (``inf`` when there is none)."""
        i = bisect_left(self._sorted, value)
        return value - self._sorted[i - 1] if i > 0 else math.inf

    def count_above(self, value: float) -> int:
        return len(self._sorted) - bisect_right(self._sorted, value)

    def largest(self, k: int) -> list[float]:
        """The ``k`` largest values, ascending."""
        return self._sorted[-k:].tolist() if k > 0 else []

    def smallest(self, k: int) -> list[float]:
        """The ``k`` smallest values, ascending."""
        return self._sorted[:k].tolist() if k > 0 else []

    def minimum(self) -> float:
        return self._sorted[0]

    def maximum(self) -> float:
        return self._sorted[-1]

    def oldest(self) -> float:
        """The value that the next push evicts once the window is full."""
        return self._arrivals[self._head]


# Windows of at least this many values (a week of 1-minute points) keep their order as ring positions: 10
# bytes per value instead of 16, for about a microsecond more per push and search.  Smaller windows (a week
# of 5-minute points is 2016 values) keep a sorted copy: there the speed is worth more than the bytes.
COMPACT_FROM_CAPACITY = 4096


def sorted_window(capacity: int, typecode: str = "d") -> SortedWindow:
    """A window of the last ``capacity`` values with order statistics, compact when it is large."""
    window = CompactSortedWindow if capacity >= COMPACT_FROM_CAPACITY else SortedWindow
    return window(capacity, typecode)


class CompactSortedWindow(SortedWindow):
    """A :class:`SortedWindow` that keeps its sorted order as positions in the ring of values (2 or 4 bytes
    each) instead of a second copy of every value, with the same results.

    Equal values are kept in arrival order (a value is inserted after its equals), so the value a full
    window evicts, the oldest of all, is the first of its equals: found by one bisection.  Quantiles are
    remembered until the next push: detectors that share the window ask for the same ones.
    """

    __slots__ = ("_key", "_order", "_quantiles")

    def __init__(self, capacity: int, typecode: str = "d") -> None:
        super().__init__(capacity, typecode)
        self._order = array("H" if capacity <= 0xFFFF else "I")  # ring positions by value
        self._key = self._arrivals.__getitem__
        self._quantiles: dict[float, float] = {}

    def __len__(self) -> int:
        return len(self._order)

    def push(self, value: float) -> float | None:
        if self._single:
            value = to_single(value)  # equal values must stay equal as kept, for eviction to find them
        arrivals, order, key = self._arrivals, self._order, self._key
        self._quantiles.clear()
        evicted = None
        if len(arrivals) == self._capacity:
            slot = self._head
            evicted = arrivals[slot]
            position = bisect_left(order, evicted, key=key)
            assert order[position] == slot, "equal values out of arrival order"
            del order[position]
            arrivals[slot] = value
            self._head = (slot + 1) % self._capacity
        else:
            slot = len(arrivals)
            arrivals.append(value)
        order.insert(bisect_right(order, value, key=key), slot)
        return evicted

    def median(self) -> float:
        order, arrivals = self._order, self._arrivals
        n = len(order)
        if n == 0:
            raise ValueError("median of an empty window")
        mid = n // 2
        if n % 2:
            return arrivals[order[mid]]
        return 0.5 * (arrivals[order[mid - 1]] + arrivals[order[mid]])

    def quantile(self, q: float) -> float:
        known = self._quantiles.get(q)
        if known is not None:
            return known
        order, arrivals = self._order, self._arrivals
        n = len(order)
        if n == 0:
            raise ValueError("quantile of an empty window")
        position = q * (n - 1)
        low = int(position)
        if low >= n - 1:
            value = arrivals[order[-1]]
        else:
            below, above = arrivals[order[low]], arrivals[order[low + 1]]
            value = below + (above - below) * (position - low)
        self._quantiles[q] = value
        return value

    def nearest_distance(self, value: float) -> float:
        order, arrivals = self._order, self._arrivals
        i = bisect_left(order, value, key=self._key)
        below = value - arrivals[order[i - 1]] if i > 0 else math.inf
        above = arrivals[order[i]] - value if i < len(order) else math.inf
        return min(below, above)

    def count_at_least(self, value: float) -> int:
        return len(self._order) - bisect_left(self._order, value, key=self._key)

    def gap_below(self, value: float) -> float:
        i = bisect_left(self._order, value, key=self._key)
        return value - self._arrivals[self._order[i - 1]] if i > 0 else math.inf

    def count_above(self, value: float) -> int:
        return len(self._order) - bisect_right(self._order, value, key=self._key)

    def largest(self, k: int) -> list[float]:
        return [self._arrivals[slot] for slot in self._order[-k:]] if k > 0 else []

    def smallest(self, k: int) -> list[float]:
        return [self._arrivals[slot] for slot in self._order[:k]] if k > 0 else []

    def minimum(self) -> float:
        return self._arrivals[self._order[0]]

    def maximum(self) -> float:
        return self._arrivals[self._order[-1]]


class Ring:
    """The last ``capacity`` values as C doubles (8 bytes each instead of a float object and a pointer in a
    deque), in arrival order until full, then a ring whose oldest value is at ``_head``.

    ``typecode="f"`` keeps single precision (4 bytes): a value pushed comes back rounded, as
    :func:`to_single` rounds it.
    """

    __slots__ = ("_capacity", "_head", "_values")

    def __init__(self, capacity: int, typecode: str = "d") -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._values: array[float] = array(typecode)
        self._head = 0

    def __len__(self) -> int:
        return len(self._values)

    def push(self, value: float) -> float | None:
        """Add a value; when the ring is full, overwrite the oldest one and return it."""
        values = self._values
        if len(values) < self._capacity:
            values.append(value)
            return None
        head = self._head
        evicted = values[head]
        values[head] = value
        self._head = (head + 1) % self._capacity
        return evicted

    def minimum(self) -> float:
        return min(self._values)

    def maximum(self) -> float:
        return max(self._values)


class MaximumRing(Ring):
    """A :class:`Ring` that keeps its maximum current as values come and go: O(1) per push but when the
    maximum itself leaves (then one pass over the ring)."""

    __slots__ = ("_maximum",)

    def __init__(self, capacity: int, typecode: str = "d") -> None:
        super().__init__(capacity, typecode)
        self._maximum = -math.inf

    def push(self, value: float) -> float | None:
        values = self._values
        evicted = None
        if len(values) < self._capacity:
            values.append(value)
            kept = values[-1]
        else:
            head = self._head
            evicted = values[head]
            values[head] = value
            kept = values[head]
            self._head = (head + 1) % self._capacity
        if kept >= self._maximum:
            self._maximum = kept
        elif evicted == self._maximum:
            self._maximum = max(values)
        return evicted

    def maximum(self) -> float:
        if not self._values:
            raise ValueError("maximum of an empty ring")
        return self._maximum


# A queue moves its remaining items to the front once this many (and half of it) were popped.
_QUEUE_COMPACT_AFTER = 256


class IntQueue:
    """A first-in, first-out queue of integers as C values (8 bytes each, or 1 for ``typecode="b"``,
    instead of an int object and a deque slot): what detectors keep per point over a window."""

    __slots__ = ("_head", "_items")

    def __init__(self, typecode: str = "q") -> None:
        self._items: array[int] = array(typecode)
        self._head = 0

    def __len__(self) -> int:
        return len(self._items) - self._head

    def __iter__(self) -> Iterator[int]:
        return iter(self._items[self._head :])

    def append(self, item: int) -> None:
        self._items.append(item)

    def first(self) -> int:
        """The oldest item (IndexError when empty)."""
        if self._head == len(self._items):
            raise IndexError("first of an empty queue")
        return self._items[self._head]

    def popleft(self) -> int:
        items, head = self._items, self._head
        if head == len(items):
            raise IndexError("pop from an empty queue")
        item = items[head]
        head += 1
        if head >= _QUEUE_COMPACT_AFTER and 2 * head >= len(items):
            del items[:head]
            head = 0
        self._head = head
        return item


class Blocks:
    """A stream cut into blocks of ``size`` points: :meth:`add` returns a block once it is complete.

    The returned list is reused for the next block, so read it before the next :meth:`add`."""

    __slots__ = ("_points", "_size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._size = size
        self._points: list[float] = []

    def add(self, value: float) -> list[float] | None:
        points = self._points
        if len(points) == self._size:
            points.clear()
        points.append(value)
        return points if len(points) == self._size else None
