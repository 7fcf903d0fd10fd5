"""NAB scorer against hand-computed cases."""

from __future__ import annotations

import math
import random

import pytest

from bench.nab.baselines import null_scores, perfect_scores, random_scores
from bench.nab.evaluation import evaluate
from bench.nab.profiles import REWARD_LOW_FN, REWARD_LOW_FP, STANDARD
from bench.nab.scoring import (
    normalized_score,
    optimize_threshold,
    probationary_length,
    scaled_sigmoid,
    score_at_threshold,
    sweep_file,
    threshold_scores,
)
from tests.sidecar.nab_files import ROWS, labelled_file

WINDOW = (200, 299)  # 100 rows; probation is the first 60 rows


def detections_at(*indices: int) -> list[float]:
    scores = [0.0] * ROWS
    for i in indices:
        scores[i] = 1.0
    return scores


def file_score(scores: list[float], profile=STANDARD, windows=(WINDOW,)) -> float:
    points = sweep_file(scores, list(windows), profile, "f")
    return score_at_threshold(points, 0.5, profile).score


def test_scaled_sigmoid_reference_values() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)  # 0.98661
    assert scaled_sigmoid(-0.5) == pytest.approx(0.848284, abs=1e-6)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.0) == -1.0


def test_probationary_period_is_15_percent_capped_at_750_rows() -> None:
    assert probationary_length(400) == 60
    assert probationary_length(4032) == 604
    assert probationary_length(100_000) == 750


def test_detection_at_window_start_earns_full_reward() -> None:
    assert file_score(detections_at(WINDOW[0])) == pytest.approx(1.0)


def test_detection_mid_window_earns_the_sigmoid_reward() -> None:
    # position -(299 - 250 + 1) / 100 = -0.5
    expected = (2 / (1 + math.exp(-2.5)) - 1) / (2 / (1 + math.exp(-5)) - 1)
    assert file_score(detections_at(250)) == pytest.approx(expected)
    assert expected == pytest.approx(0.8598, abs=1e-4)


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    assert file_score(detections_at(WINDOW[0], 250, 290)) == pytest.approx(1.0)


def test_late_detection_earns_almost_nothing_but_beats_a_miss() -> None:
    late = file_score(detections_at(WINDOW[1]))
    assert 0.0 < late < 0.06
    assert file_score(detections_at()) == pytest.approx(-1.0)


@pytest.mark.parametrize(
    ("profile", "cost"), [(STANDARD, 0.11), (REWARD_LOW_FP, 0.22), (REWARD_LOW_FN, 0.11)]
)
def test_false_positive_before_any_window_costs_the_profile_weight(profile, cost: float) -> None:
    assert file_score(detections_at(100, WINDOW[0]), profile) == pytest.approx(1.0 - cost)


def test_false_positive_right_after_a_window_costs_little() -> None:
    # One row past the window: position |299 - 300| / (100 - 1)
    penalty = 0.11 * (2 / (1 + math.exp(5 / 99)) - 1)
    assert file_score(detections_at(WINDOW[0], 300)) == pytest.approx(1.0 + penalty)
    assert -0.003 < penalty < 0


def test_missed_window_costs_fn_weight_per_profile() -> None:
    assert file_score(detections_at(), STANDARD) == pytest.approx(-1.0)
    assert file_score(detections_at(), REWARD_LOW_FN) == pytest.approx(-2.0)


def test_detections_in_probationary_period_are_ignored() -> None:
    assert file_score(detections_at(10, 59, WINDOW[0])) == pytest.approx(1.0)
    assert file_score(detections_at(60, WINDOW[0])) == pytest.approx(1.0 - 0.11)


def test_threshold_sweep_matches_direct_scoring_at_every_threshold() -> None:
    generator = random.Random(3)
    scores = [generator.random() for _ in range(ROWS)]
    points = sweep_file(scores, [WINDOW, (330, 360)], STANDARD, "f")
    for row in threshold_scores(points, STANDARD)[::17]:
        direct = score_at_threshold(points, row.threshold, STANDARD)
        assert direct.score == pytest.approx(row.score)


def test_one_threshold_is_optimised_for_the_whole_corpus() -> None:
    # File a rewards a threshold of 0.9 only, file b a threshold of 0.6 (which adds a costly FP in a).
    a = [0.0] * ROWS
    a[WINDOW[0]] = 0.9
    a[150] = 0.6
    b = [0.0] * ROWS
    b[WINDOW[0]] = 0.6
    swept = [sweep_file(s, [WINDOW], STANDARD, name) for s, name in ((a, "a"), (b, "b"))]
    best = optimize_threshold(swept, STANDARD)
    assert best.threshold == 0.6
    assert best.score == pytest.approx(1.0 - 0.11 + 1.0)
    total = sum(score_at_threshold(points, best.threshold, STANDARD).score for points in swept)
    assert total == pytest.approx(best.score)


def test_normalisation_maps_null_to_0_and_perfect_to_100() -> None:
    assert normalized_score(-3.0, -3.0, 3, STANDARD) == 0.0
    assert normalized_score(3.0, -3.0, 3, STANDARD) == 100.0
    assert normalized_score(-6.0, -6.0, 3, REWARD_LOW_FN) == 0.0


def test_corpus_evaluation_of_reference_detectors() -> None:
    corpus = [
        labelled_file("a", [WINDOW]),
        labelled_file("b", [(100, 149), (250, 299)]),
        labelled_file("c", []),
    ]
    for detector, expected in ((null_scores, 0.0), (perfect_scores, 100.0)):
        results = evaluate(corpus, {f.relative_path: detector(f) for f in corpus})
        for result in results.values():
            assert result.normalized == pytest.approx(expected)
    random_results = evaluate(corpus, {f.relative_path: random_scores(f) for f in corpus})
    assert all(r.normalized < 100.0 for r in random_results.values())
