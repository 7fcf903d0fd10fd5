"""Per-window and per-false-positive diagnostics of the NAB run (does not change any scoring rule).

    .venv/bin/python -m bench.nab.diagnose [--nab-dir DIR] [--profile standard]

For the sidecar's default ensemble at the corpus-wide optimal threshold of the chosen profile, prints for
every labelled window where (relative to its start, in rows and as a fraction of its width) the first
detection fell and its reward, or the best score inside the window when it was missed; and for every file
the false-positive rows with their scores and penalties, so that one can see *why* a window was missed or
a row cost points.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.nab.corpus import DEFAULT_NAB_DIR, LabelledFile, load_corpus
from bench.nab.evaluation import evaluate
from bench.nab.profiles import PROFILES
from bench.nab.run import ensemble_scores, run_detector
from bench.nab.scoring import sweep_file


def describe(
    corpus: Sequence[LabelledFile],
    scores: Mapping[str, Sequence[float]],
    profile_name: str = "standard",
    max_fp_rows: int = 8,
) -> list[str]:
    """Lines describing windows and false positives at the profile's optimal corpus threshold."""
    profile = next(p for p in PROFILES if p.name == profile_name)
    result = evaluate(corpus, scores, [profile])[profile_name]
    threshold = result.threshold
    lines = [f"{profile_name}: normalised {result.normalized:.1f}, threshold {threshold:.6f}"]
    for labelled in corpus:
        path = labelled.relative_path
        file_scores = scores[path]
        points = sweep_file(file_scores, labelled.window_bounds, profile, path)
        counts = result.per_file[path]
        lines.append(
            f"{path}  raw {counts.score:+.3f}  found {counts.detected_windows}"
            f"  missed {counts.missed_windows}  FP {counts.false_positives}"
        )
        for start, end in labelled.window_bounds:
            width = end - start + 1
            first = next(
                (
                    i
                    for i in range(start, end + 1)
                    if file_scores[i] >= threshold and not points[i].probationary
                ),
                None,
            )
            best = max(range(start, end + 1), key=lambda i: file_scores[i])
            if first is None:
                lines.append(
                    f"    window [{start},{end}] MISSED  best {file_scores[best]:.4f} at +{best - start}"
                )
            else:
                lines.append(
                    f"    window [{start},{end}] found at +{first - start} ({(first - start) / width:.2f})"
                    f"  score {file_scores[first]:.4f}  reward {points[first].sweep_score:+.3f}"
                )
        fps = [
            i
            for i, p in enumerate(points)
            if p.window is None and not p.probationary and file_scores[i] >= threshold
        ]
        for i in fps[:max_fp_rows]:
            lines.append(f"    FP row {i}  score {file_scores[i]:.4f}  cost {points[i].sweep_score:+.3f}")
        if len(fps) > max_fp_rows:
            lines.append(f"    ... {len(fps) - max_fp_rows} more FP rows")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nab-dir", type=Path, default=DEFAULT_NAB_DIR, help="NAB data directory")
    parser.add_argument("--profile", default="standard", choices=[p.name for p in PROFILES])
    args = parser.parse_args(argv)
    corpus = load_corpus(args.nab_dir)
    scores, throughput = run_detector(corpus, ensemble_scores)
    print(f"throughput {throughput:.0f} points/s")
    print("\n".join(describe(corpus, scores, args.profile)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
