"""Why a point scored high, in words for the people an alert reaches.

Each component of an ensemble result is one detector's own score; the highest of them is the strongest
evidence, and its detector says what kind of anomaly it is.
"""

from __future__ import annotations

from collections.abc import Mapping

from otel_ops.sidecar.anomaly.result import AnomalyResult

# Component name -> (what the detector is called, what its evidence means).
DETECTOR_REASONS: Mapping[str, tuple[str, str]] = {
    "spike": ("spike / level shift", "far from the last points, or their level moved"),
    "seasonal": ("seasonal", "unusual for this time of day and week"),
    "novelty": ("value novelty", "a value unlike any of the past week"),
    "pattern": ("pattern novelty", "the last hours took a shape not seen before"),
    "absence": ("absence", "the large bursts the series keeps having stopped coming"),
    "activity_absence": ("activity absence", "the series' activity stopped"),
    "frozen": ("frozen value", "the same value repeated far longer than the series' own repeats"),
    "missed_run": ("missed run", "a scheduled job's run was due and did not come"),
    "exhaustion": ("exhaustion forecast", "on course to reach its limit"),
}


def strongest_component(result: AnomalyResult) -> str | None:
    """The component with the highest score (the first of equals), or None when none scored above 0."""
    best, best_score = None, 0.0
    for name, score in result.components.items():
        if score > best_score:
            best, best_score = name, score
    return best


def label(component: str) -> str:
    """What the detector of ``component`` is called (``value novelty``)."""
    return DETECTOR_REASONS.get(component, (component, ""))[0]


def meaning(component: str) -> str:
    """What ``component``'s evidence means (``a value unlike any of the past week``)."""
    return DETECTOR_REASONS.get(component, ("", "its detector's evidence"))[1]


def describe(result: AnomalyResult) -> str | None:
    """The strongest evidence of ``result`` in words, e.g. ``value novelty: a value unlike any of the past
    week``; None when no detector scored the point."""
    name = strongest_component(result)
    if name is None:
        return None
    what = meaning(name)
    if name == "exhaustion" and result.time_to_exhaustion_seconds is not None:
        what = f"{what} in {human_duration(result.time_to_exhaustion_seconds)}"
    return f"{label(name)}: {what}"


def human_duration(seconds: float) -> str:
    """``2.5 days``, ``12 hours``, ``1 minute``: in the largest unit it spans at least once."""
    units = (("day", 86_400), ("hour", 3_600), ("minute", 60))
    unit, size = next(((u, s) for u, s in units if seconds >= s), ("second", 1))
    amount = f"{seconds / size:.1f}".removesuffix(".0")
    return f"{amount} {unit}{'' if amount == '1' else 's'}"
