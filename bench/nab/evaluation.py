"""Score a detector's output over the whole corpus under every NAB profile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.nab.baselines import null_scores
from bench.nab.corpus import LabelledFile
from bench.nab.profiles import PROFILES, CostProfile
from bench.nab.scoring import (
    DetectionCounts,
    normalized_score,
    optimize_threshold,
    score_at_threshold,
    sweep_file,
)


@dataclass(frozen=True)
class ProfileResult:
    """A detector's result under one profile, at the corpus-wide optimal threshold."""

    profile: CostProfile
    threshold: float
    raw_score: float
    normalized: float
    per_file: dict[str, DetectionCounts]

    @property
    def detected_windows(self) -> int:
        return sum(c.detected_windows for c in self.per_file.values())

    @property
    def missed_windows(self) -> int:
        return sum(c.missed_windows for c in self.per_file.values())

    @property
    def false_positives(self) -> int:
        return sum(c.false_positives for c in self.per_file.values())


def _raw_optimum(
    corpus: Sequence[LabelledFile], scores: Mapping[str, Sequence[float]], profile: CostProfile
) -> tuple[float, float, dict[str, DetectionCounts]]:
    swept = {
        f.relative_path: sweep_file(scores[f.relative_path], f.window_bounds, profile, f.relative_path)
        for f in corpus
    }
    best = optimize_threshold(swept.values(), profile)
    per_file = {path: score_at_threshold(points, best.threshold, profile) for path, points in swept.items()}
    return best.threshold, best.score, per_file


def evaluate(
    corpus: Sequence[LabelledFile],
    scores: Mapping[str, Sequence[float]],
    profiles: Sequence[CostProfile] = PROFILES,
) -> dict[str, ProfileResult]:
    """Normalised NAB score of ``scores`` (one list per file) under each profile."""
    num_windows = sum(len(f.window_bounds) for f in corpus)
    null = {f.relative_path: null_scores(f) for f in corpus}
    results: dict[str, ProfileResult] = {}
    for profile in profiles:
        _, null_raw, _ = _raw_optimum(corpus, null, profile)
        threshold, raw, per_file = _raw_optimum(corpus, scores, profile)
        results[profile.name] = ProfileResult(
            profile, threshold, raw, normalized_score(raw, null_raw, num_windows, profile), per_file
        )
    return results
