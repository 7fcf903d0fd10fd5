"""Out-of-fold NAB scores: settings and threshold chosen on some files, the score reported on the others.

    .venv/bin/python -m bench.nab.validation [--nab-dir DIR] [--folds 4] [--repeats 10] [--workers 1]
        [--no-grid]

The in-sample score (``bench.nab.run``) rewards settings and a threshold chosen on the very files it is
reported on.  Here, for the ensemble and for each of its detectors alone:

* a grid of settings: the defaults and each of the detector's settings halved and doubled (what
  ``bench.nab.sensitivity`` varies), calibration internals and scale-only settings left out;
* two splits of the corpus by file: ``k``-fold, repeated over several partitions (the first deals the files
  sorted by path round robin, file ``i`` in fold ``i mod k``; each further one deals them in a seeded
  random order), and leave-one-category-out (artificialNoAnomaly, artificialWithAnomaly,
  realAWSCloudwatch).  With 36 windows, which files share a fold moves a single partition's score by a few
  points; the mean over partitions is the figure to compare, and its spread says how far one partition
  can be trusted;
* in every split, on the training files only, the grid setting with the best NAB standard score and its
  corpus-wide threshold are chosen; the held-out files are scored with that setting at that threshold;
* the held-out raw scores of all folds are pooled and normalised over the whole corpus (null 0, perfect
  100), so a fold without windows (artificialNoAnomaly) still counts its false positives.

Also shown: the default settings with only the threshold chosen out of fold ("fixed, k-fold").  Per-file
scores are cached (``bench.nab.score_cache``), so a second run costs the threshold sweeps only.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pydantic import ValidationError

from bench.nab.baselines import null_scores
from bench.nab.corpus import DEFAULT_NAB_DIR, LabelledFile, load_corpus
from bench.nab.profiles import STANDARD, CostProfile
from bench.nab.score_cache import cached_scores
from bench.nab.scoring import SweptPoint, normalized_score, optimize_threshold, score_at_threshold, sweep_file
from bench.nab.sensitivity import _numeric_settings, _with
from otel_ops.sidecar.anomaly import EnsembleConfig

ONLY = {
    "seasonal": None,
    "spike": None,
    "novelty": None,
    "pattern": None,
    "absence": None,
    "activity_absence": None,
    "frozen": None,
    "missed_runs": None,
}

# (row name, base config, prefixes of the settings its grid varies)
DETECTORS: tuple[tuple[str, EnsembleConfig, tuple[str, ...]], ...] = (
    ("otel-ops ensemble", EnsembleConfig(), ("",)),
    ("spike/shift only", EnsembleConfig(**{**ONLY, "spike": EnsembleConfig().spike}), ("spike.",)),
    ("seasonal only", EnsembleConfig(**{**ONLY, "seasonal": EnsembleConfig().seasonal}), ("seasonal.",)),
    ("value novelty only", EnsembleConfig(**{**ONLY, "novelty": EnsembleConfig().novelty}), ("novelty.",)),
    ("pattern novelty only", EnsembleConfig(**{**ONLY, "pattern": EnsembleConfig().pattern}), ("pattern.",)),
    ("absence only", EnsembleConfig(**{**ONLY, "absence": EnsembleConfig().absence}), ("absence.",)),
    (
        "activity absence only",
        EnsembleConfig(**{**ONLY, "activity_absence": EnsembleConfig().activity_absence}),
        ("activity_absence.",),
    ),
    ("frozen value only", EnsembleConfig(**{**ONLY, "frozen": EnsembleConfig().frozen}), ("frozen.",)),
)
# Settings that only rescale scores (the threshold absorbs them), capacities, and calibration internals.
NOT_VARIED = (
    "calibration.",
    "full_scale_log10",
    "alert_score",
    "band_z",
    "max_values_per_slot",
    "learn_seconds",
    "max_patterns",
)


@dataclass(frozen=True)
class Split:
    """One fold: the files a setting and threshold are chosen on, and the ones it is reported on."""

    scheme: str
    name: str
    train: tuple[int, ...]
    held_out: tuple[int, ...]
    repeat: int = 0  # which partition of a repeated k-fold


def category(labelled: LabelledFile) -> str:
    return labelled.relative_path.split("/", 1)[0]


def make_splits(corpus: Sequence[LabelledFile], folds: int, repeats: int = 1) -> list[Split]:
    """``folds``-fold by file, ``repeats`` partitions (the first round robin over sorted paths, the others
    in seeded random orders), and leave-one-category-out."""
    order = sorted(range(len(corpus)), key=lambda i: corpus[i].relative_path)
    splits = []
    for repeat in range(repeats):
        dealt = list(order)
        if repeat:
            random.Random(repeat).shuffle(dealt)
        fold_of = {index: position % folds for position, index in enumerate(dealt)}
        splits += [
            Split(
                f"{folds}-fold",
                f"fold {k + 1}" if repeat == 0 else f"partition {repeat + 1} fold {k + 1}",
                tuple(i for i in order if fold_of[i] != k),
                tuple(i for i in order if fold_of[i] == k),
                repeat,
            )
            for k in range(folds)
        ]
    for name in sorted({category(f) for f in corpus}):
        held = tuple(i for i in order if category(corpus[i]) == name)
        splits.append(Split("category", name, tuple(i for i in order if i not in held), held))
    return splits


def grid(base: EnsembleConfig, prefixes: tuple[str, ...]) -> Iterator[tuple[str, EnsembleConfig]]:
    """(label, config): the base, then each varied setting halved and doubled (valid variants only)."""
    yield "defaults", base
    for path, value in _numeric_settings(base):
        if not path.startswith(prefixes) or any(part in path for part in NOT_VARIED):
            continue
        for factor in (0.5, 2.0):
            varied = type(value)(value * factor) if isinstance(value, int) else value * factor
            if varied == value:
                continue
            try:
                config = _with(base, path, varied)
            except ValidationError:
                continue
            yield f"{path} x{factor:g}", config  # type: ignore[misc]


@dataclass(frozen=True)
class FoldOutcome:
    """A config in one split: its training raw score and threshold, and the held-out raw score there."""

    train_raw: float
    threshold: float
    held_out_raw: float


def evaluate_config(
    swept: Sequence[Sequence[SweptPoint]], splits: Sequence[Split], profile: CostProfile
) -> tuple[float, dict[Split, FoldOutcome]]:
    """In-sample raw score (threshold on every file) and the outcome in every split."""
    in_sample = optimize_threshold(swept, profile).score
    outcomes = {}
    for split in splits:
        best = optimize_threshold([swept[i] for i in split.train], profile)
        held = sum(score_at_threshold(swept[i], best.threshold, profile).score for i in split.held_out)
        outcomes[split] = FoldOutcome(best.score, best.threshold, held)
    return in_sample, outcomes


_CORPUS: list[LabelledFile] = []


def _init(nab_dir: Path) -> None:
    _CORPUS[:] = load_corpus(nab_dir)


def _score(args: tuple[EnsembleConfig, int]) -> list[float]:
    config, index = args
    return cached_scores(config, _CORPUS[index])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nab-dir", type=Path, default=DEFAULT_NAB_DIR)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=10, help="k-fold partitions averaged (default 10)")
    parser.add_argument("--workers", type=int, default=1, help="processes scoring files (default 1)")
    parser.add_argument("--no-grid", action="store_true", help="default settings only (threshold CV)")
    parser.add_argument("--only", default="", help="comma-separated row names to run (default: all)")
    parser.add_argument(
        "--config", default="{}", help="top-level EnsembleConfig settings for every row, as JSON"
    )
    args = parser.parse_args(argv)
    overrides = json.loads(args.config)

    _init(args.nab_dir)
    corpus = _CORPUS
    profile = STANDARD
    splits = make_splits(corpus, args.folds, args.repeats)
    windows = sum(len(f.window_bounds) for f in corpus)
    null_raw = optimize_threshold(
        [sweep_file(null_scores(f), f.window_bounds, profile, f.relative_path) for f in corpus], profile
    ).score

    def normalise(raw: float) -> float:
        return normalized_score(raw, null_raw, windows, profile)

    print(f"NAB corpus {args.nab_dir}: {len(corpus)} files, {windows} windows; profile {profile.name}")
    for split in splits:
        if split.repeat:
            continue
        held = ", ".join(corpus[i].relative_path.split("/")[-1].removesuffix(".csv") for i in split.held_out)
        print(f"  {split.scheme:9s} {split.name:22s} held out: {held}")
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}

    pool = ProcessPoolExecutor(args.workers, initializer=_init, initargs=(args.nab_dir,))

    def score_all(config: EnsembleConfig) -> list[list[float]]:
        if args.workers > 1:
            return list(pool.map(_score, [(config, i) for i in range(len(corpus))]))
        return [cached_scores(config, f) for f in corpus]

    rows = []
    for name, base, prefixes in DETECTORS:
        if wanted and name not in wanted:
            continue
        started = time.perf_counter()
        base = EnsembleConfig.model_validate({**base.model_dump(), **overrides})
        variants = list(grid(base, prefixes)) if not args.no_grid else [("defaults", base)]
        results: list[tuple[str, float, dict[Split, FoldOutcome]]] = []
        at_alert_score = 0.0
        for label, config in variants:
            swept = [
                sweep_file(scores, f.window_bounds, profile, f.relative_path)
                for scores, f in zip(score_all(config), corpus, strict=True)
            ]
            in_sample, outcomes = evaluate_config(swept, splits, profile)
            results.append((label, in_sample, outcomes))
            if label == "defaults":
                # What a live job alerts on: the alert score, chosen on no NAB file.
                at_alert_score = sum(score_at_threshold(s, config.alert_score, profile).score for s in swept)
        rows.append(_summarise(name, results, splits, normalise, normalise(at_alert_score)))
        print(f"{name}: {len(variants)} settings, {time.perf_counter() - started:.0f} s", flush=True)
        for split, label in rows[-1].chosen.items():
            if label != "defaults" and not split.repeat:
                print(f"    {split.scheme} {split.name}: chose {label}")
    pool.shutdown()

    print()
    print(
        f"k-fold: mean over {args.repeats} partitions (min-max); first partition: files sorted by path, "
        "dealt round robin"
    )
    print(
        "| detector | in-sample (defaults) | fixed, k-fold | k-fold | k-fold, first partition "
        "| leave-category-out | gap in-sample - k-fold | gap in-sample - category | best in grid, in-sample "
        "| at the alert score |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        cells = (
            f"{row.in_sample:.1f}",
            _mean_range(row.fixed_kfold),
            _mean_range(row.kfold_partitions),
            f"{row.kfold_partitions[0]:.1f}",
            f"{row.category:.1f}",
            f"{row.in_sample - row.kfold:+.1f}",
            f"{row.in_sample - row.category:+.1f}",
            f"{row.best_in_grid:.1f}",
            f"{row.at_alert_score:.1f}",
        )
        print(f"| {row.name} | " + " | ".join(cells) + " |")
    return 0


def _mean_range(values: Sequence[float]) -> str:
    return f"{statistics.fmean(values):.1f} ({min(values):.1f}-{max(values):.1f})"


@dataclass
class Row:
    name: str
    in_sample: float
    best_in_grid: float
    fixed_kfold: list[float]  # per partition
    kfold_partitions: list[float]
    category: float
    at_alert_score: float  # defaults at the live alert score: nothing chosen on NAB but the defaults

    @property
    def kfold(self) -> float:
        return statistics.fmean(self.kfold_partitions)

    chosen: dict[Split, str]


def _summarise(
    name: str,
    results: Sequence[tuple[str, float, Mapping[Split, FoldOutcome]]],
    splits: Sequence[Split],
    normalise: Callable[[float], float],
    at_alert_score: float,
) -> Row:
    defaults = results[0]
    pooled: dict[tuple[str, int], float] = {}
    fixed: dict[int, float] = {}
    chosen: dict[Split, str] = {}
    for split in splits:
        # Highest training score wins; on a tie the earlier entry (the defaults first) is kept.
        label, _, outcomes = max(results, key=lambda r: r[2][split].train_raw)
        chosen[split] = label
        key = (split.scheme, split.repeat)
        pooled[key] = pooled.get(key, 0.0) + outcomes[split].held_out_raw
        if split.scheme != "category":
            fixed[split.repeat] = fixed.get(split.repeat, 0.0) + defaults[2][split].held_out_raw
    kfold = [normalise(raw) for (scheme, _), raw in sorted(pooled.items()) if scheme != "category"]
    return Row(
        name=name,
        in_sample=normalise(defaults[1]),
        best_in_grid=normalise(max(r[1] for r in results)),
        fixed_kfold=[normalise(fixed[r]) for r in sorted(fixed)],
        kfold_partitions=kfold,
        category=normalise(pooled[("category", 0)]),
        at_alert_score=at_alert_score,
        chosen=chosen,
    )


if __name__ == "__main__":
    raise SystemExit(main())
