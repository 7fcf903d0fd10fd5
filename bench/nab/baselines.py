"""Reference detectors for sanity checks: never fires, fires at random, fires exactly at each window start."""

from __future__ import annotations

import random
import zlib

from bench.nab.corpus import LabelledFile

NULL_SCORE = 0.5


def null_scores(labelled: LabelledFile) -> list[float]:
    """NAB's null detector: the same score for every point, so no threshold separates anything."""
    return [NULL_SCORE] * len(labelled.series)


def random_scores(labelled: LabelledFile, seed: int = 42) -> list[float]:
    """Uniform random scores, reproducible per file."""
    generator = random.Random(seed ^ zlib.crc32(labelled.relative_path.encode()))
    return [generator.random() for _ in range(len(labelled.series))]


def perfect_scores(labelled: LabelledFile) -> list[float]:
    """Uses the labels: 1.0 on the first point of each window, 0.0 elsewhere (scores 100 by construction)."""
    scores = [0.0] * len(labelled.series)
    for start, _ in labelled.window_bounds:
        scores[start] = 1.0
    return scores
