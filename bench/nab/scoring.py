"""NAB scoring (Lavin & Ahmad 2015), following the reference implementation's sweep-based scorer.

Every point of a file gets a *sweep score*: the reward or penalty it would earn if the detector flagged it.

* Inside an anomaly window the reward follows a scaled sigmoid of the position in the window, normalised so
  that a detection on the window's first point earns exactly ``tp_weight``; a detection on its last point
  earns almost nothing.  Only the best (earliest) detection of a window counts.
* Outside every window a detection is a false positive costing ``fp_weight`` times the sigmoid of the
  distance past the preceding window (FPs just after a window cost less; FPs before any window cost the full
  ``fp_weight``).
* A window without any detection costs ``fn_weight``.
* The first 15% of each file (at most 750 rows) is the probationary period and is not scored.

Thresholds are swept over the whole corpus at once (one global threshold per detector and profile, chosen to
maximise the summed raw score), and the raw score is normalised so that a detector that never fires scores 0
and a perfect one (a detection at the start of every window and nowhere else) scores 100.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.nab.profiles import CostProfile

PROBATION_FRACTION = 0.15
PROBATION_ROW_CAP = 5000
OUT_OF_RANGE_POSITION = 3.0


def probationary_length(num_rows: int, fraction: float = PROBATION_FRACTION) -> float:
    """Number of leading rows of a file that are not scored."""
    return min(math.floor(fraction * num_rows), fraction * PROBATION_ROW_CAP)


def scaled_sigmoid(relative_position: float) -> float:
    """NAB's reward curve: ~0.987 at the window start (-1.0), 0 at its end (0.0), -1 far behind it."""
    if relative_position >= OUT_OF_RANGE_POSITION:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * relative_position)) - 1.0


MAX_TP_REWARD = scaled_sigmoid(-1.0)


@dataclass(frozen=True)
class SweptPoint:
    """One row of a file, ready for threshold sweeping."""

    anomaly_score: float
    sweep_score: float
    window: str | None
    probationary: bool


@dataclass(frozen=True)
class ThresholdScore:
    """Raw score of a detector at one threshold (detections are points with score >= threshold)."""

    threshold: float
    score: float
    tp: int
    tn: int
    fp: int
    fn: int


@dataclass(frozen=True)
class DetectionCounts:
    """Window-level outcome of a file at a fixed threshold."""

    score: float
    detected_windows: int
    missed_windows: int
    false_positives: int


def sweep_file(
    anomaly_scores: Sequence[float],
    window_bounds: Sequence[tuple[int, int]],
    profile: CostProfile,
    file_id: str,
) -> list[SweptPoint]:
    """Attach to each row the reward or penalty it earns if detected.

    ``window_bounds`` are inclusive ``(first_index, last_index)`` pairs, sorted and non-overlapping.
    """
    pending = sorted(window_bounds)
    probation = probationary_length(len(anomaly_scores))
    points: list[SweptPoint] = []

    window_name: str | None = None
    window_right = -1
    window_width = 0.0
    prev_right: int | None = None
    prev_width = 0.0
    next_window = 0

    for i, anomaly_score in enumerate(anomaly_scores):
        if next_window < len(pending) and i == pending[next_window][0]:
            left, window_right = pending[next_window]
            window_width = float(window_right - left + 1)
            window_name = f"{file_id}|{left}"
            next_window += 1

        if window_name is not None:
            position = -(window_right - i + 1) / window_width
            sweep_score = scaled_sigmoid(position) * profile.tp_weight / MAX_TP_REWARD
        else:
            if prev_right is None:
                position_past = OUT_OF_RANGE_POSITION
            else:
                position_past = abs(prev_right - i) / max(prev_width - 1.0, 1.0)
            sweep_score = scaled_sigmoid(position_past) * profile.fp_weight

        points.append(SweptPoint(float(anomaly_score), sweep_score, window_name, i < probation))

        if window_name is not None and i == window_right:
            prev_right = window_right
            prev_width = window_width
            window_name = None

    return points


def threshold_scores(points: Iterable[SweptPoint], profile: CostProfile) -> list[ThresholdScore]:
    """Raw score at every distinct threshold, from "nothing detected" (1.1) down to the lowest score."""
    scorable = sorted((p for p in points if not p.probationary), key=lambda p: p.anomaly_score, reverse=True)
    best_in_window: dict[str, float] = {
        p.window: -profile.fn_weight for p in scorable if p.window is not None
    }
    total = sum(best_in_window.values())
    tn = sum(1 for p in scorable if p.window is None)
    fn = len(scorable) - tn
    tp = fp = 0

    results: list[ThresholdScore] = []
    threshold = 1.1
    for point in scorable:
        if point.anomaly_score != threshold:
            results.append(ThresholdScore(threshold, total, tp, tn, fp, fn))
            threshold = point.anomaly_score
        if point.window is None:
            fp += 1
            tn -= 1
            total += point.sweep_score
        else:
            tp += 1
            fn -= 1
            previous = best_in_window[point.window]
            if point.sweep_score > previous:
                best_in_window[point.window] = point.sweep_score
                total += point.sweep_score - previous
    results.append(ThresholdScore(threshold, total, tp, tn, fp, fn))
    return results


def optimize_threshold(
    points_by_file: Iterable[Sequence[SweptPoint]], profile: CostProfile
) -> ThresholdScore:
    """The single corpus-wide threshold that maximises the summed raw score (highest threshold on ties)."""
    corpus = [point for points in points_by_file for point in points]
    candidates = threshold_scores(corpus, profile)
    best = candidates[0]
    for candidate in candidates[1:]:
        if candidate.score > best.score:
            best = candidate
    return best


def score_at_threshold(
    points: Sequence[SweptPoint], threshold: float, profile: CostProfile
) -> DetectionCounts:
    """Raw score of one file when every row with ``anomaly_score >= threshold`` is a detection."""
    best_in_window: dict[str, float] = {}
    windows: set[str] = set()
    fp_total = 0.0
    false_positives = 0
    for point in points:
        if point.probationary:
            continue
        if point.window is not None:
            windows.add(point.window)
        if point.anomaly_score < threshold:
            continue
        if point.window is None:
            fp_total += point.sweep_score
            false_positives += 1
        else:
            best_in_window[point.window] = max(best_in_window.get(point.window, -math.inf), point.sweep_score)
    missed = len(windows) - len(best_in_window)
    score = fp_total + sum(max(s, -profile.fn_weight) for s in best_in_window.values())
    score -= missed * profile.fn_weight
    return DetectionCounts(score, len(best_in_window), missed, false_positives)


def normalized_score(raw: float, null_raw: float, num_windows: int, profile: CostProfile) -> float:
    """Map a raw corpus score to NAB's scale: the null detector scores 0, a perfect detector 100."""
    perfect = num_windows * profile.tp_weight
    return 100.0 * (raw - null_raw) / (perfect - null_raw)
