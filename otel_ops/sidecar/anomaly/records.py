"""How rare a record is: a value beyond every value of a window, judged by the window's own extremes.

A window of ``n`` exchangeable values is beaten by the next one once in ``n + 1`` points.  By how much it
is beaten is judged by an exponential tail past the maximum, whose scale comes from the spacing of the
window's most extreme values: the ``i``-th gap between them (the largest value's gap first), times ``i``,
is exponential with the tail's scale (Renyi's representation), so the median of those products over
``ln 2`` estimates it.  A median is not thrown by one wide gap (a week of daily spikes above its noise).
"""

from __future__ import annotations

import math
from statistics import median

from otel_ops.sidecar.anomaly.tail_calibration import MIN_TAIL_POINTS

# A record's margin is judged by the gaps between this many and one of the window's most extreme values:
# as few as the tail calibrator fits a tail to.
RECORD_TAIL_POINTS = MIN_TAIL_POINTS


def tail_scale(extremes: list[float]) -> float:
    """Scale of an exponential tail from its most extreme values, the most extreme first (descending
    for a maximum, ascending for a minimum); 0 when they are all one value.  Their mean normalised gap
    when more than half the gaps are zero (repeated extremes of a coarse series)."""
    normalised = [(i + 1) * abs(extremes[i] - extremes[i + 1]) for i in range(len(extremes) - 1)]
    if not normalised:
        return 0.0
    middle = median(normalised)
    if middle > 0.0:
        return middle / math.log(2)
    return sum(normalised) / len(normalised)


def log10_record_probability(extremes: list[float], margin: float, n: int) -> float | None:
    """log10 of the probability that the next of ``n`` values beats the most extreme of ``extremes`` (the
    window's ``RECORD_TAIL_POINTS + 1`` most extreme values, the most extreme first) by ``margin``; None
    when the extremes are one value (a series capped at its limit: beyond it, nothing is known)."""
    scale = tail_scale(extremes)
    if scale <= 0.0:
        return None
    return -math.log10(n + 1) - margin / scale * math.log10(math.e)
