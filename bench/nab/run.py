"""Run the NAB benchmark: the sidecar's ensemble detector plus null, random and perfect references.

    .venv/bin/python -m bench.nab.run [--nab-dir DIR] [--per-file]

Every file is scored point by point with a fresh detector built from the default ``EnsembleConfig`` (no
per-file settings, no labels), then NAB picks one threshold per profile for the whole corpus.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.nab.baselines import null_scores, perfect_scores, random_scores
from bench.nab.corpus import DEFAULT_NAB_DIR, LabelledFile, load_corpus
from bench.nab.evaluation import ProfileResult, evaluate
from bench.nab.profiles import PROFILES
from otel_ops.sidecar.anomaly import EnsembleConfig, score_series

ScoreFunction = Callable[[LabelledFile], list[float]]


def _scores_with(config: EnsembleConfig) -> ScoreFunction:
    def score(labelled: LabelledFile) -> list[float]:
        return score_series(labelled.series.epoch_seconds, labelled.series.values, config)

    return score


ensemble_scores = _scores_with(EnsembleConfig())

DETECTORS: dict[str, ScoreFunction] = {
    "otel-ops ensemble": ensemble_scores,
    "  without absence": _scores_with(EnsembleConfig(absence=None)),
    "  without activity absence": _scores_with(EnsembleConfig(activity_absence=None)),
    "  without frozen value": _scores_with(EnsembleConfig(frozen=None)),
    "  without pattern novelty": _scores_with(EnsembleConfig(pattern=None)),
    "  without value novelty": _scores_with(EnsembleConfig(novelty=None)),
    "  spike + seasonal only": _scores_with(
        EnsembleConfig(novelty=None, pattern=None, absence=None, activity_absence=None, frozen=None)
    ),
    "null (sanity)": null_scores,
    "random (sanity)": random_scores,
    "perfect (uses labels)": perfect_scores,
}


def run_detector(
    corpus: Sequence[LabelledFile], score: ScoreFunction
) -> tuple[dict[str, list[float]], float]:
    """Scores of every file and the throughput in points per second of CPU time (one core; on a shared
    machine wall time would count other processes' turns too)."""
    scores: dict[str, list[float]] = {}
    points = 0
    started = time.process_time()
    for labelled in corpus:
        scores[labelled.relative_path] = score(labelled)
        points += len(labelled.series)
    elapsed = time.process_time() - started
    return scores, points / elapsed if elapsed > 0 else float("inf")


def _print_per_file(result: ProfileResult) -> None:
    print(f"    per file ({result.profile.name}, threshold {result.threshold:.6f}):")
    for path, counts in result.per_file.items():
        print(
            f"      {path:60s} raw {counts.score:+7.3f}  detected {counts.detected_windows}"
            f"  missed {counts.missed_windows}  FP {counts.false_positives}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nab-dir", type=Path, default=DEFAULT_NAB_DIR, help="NAB data directory")
    parser.add_argument("--per-file", action="store_true", help="print per-file results (standard profile)")
    args = parser.parse_args(argv)

    corpus = load_corpus(args.nab_dir)
    total_points = sum(len(f.series) for f in corpus)
    total_windows = sum(len(f.window_bounds) for f in corpus)
    print(f"NAB corpus {args.nab_dir}: {len(corpus)} files, {total_points} points, {total_windows} windows")
    header = (
        f"{'detector':24s} {'standard':>9s} {'low_FP':>9s} {'low_FN':>9s} {'points/s':>10s}"
        "   standard: windows detected/missed, FP points @ threshold"
    )
    print(header)
    print("-" * len(header))
    for name, score in DETECTORS.items():
        scores, throughput = run_detector(corpus, score)
        results = evaluate(corpus, scores, PROFILES)
        standard = results["standard"]
        print(
            f"{name:24s} {standard.normalized:9.1f} {results['reward_low_FP_rate'].normalized:9.1f}"
            f" {results['reward_low_FN_rate'].normalized:9.1f} {throughput:10.0f}"
            f"   {standard.detected_windows}/{standard.missed_windows}/{standard.false_positives}"
            f" @ {standard.threshold:.4f}",
            flush=True,
        )
        if args.per_file and name == "otel-ops ensemble":
            _print_per_file(standard)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
