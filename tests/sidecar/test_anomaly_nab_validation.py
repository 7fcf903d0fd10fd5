"""Out-of-fold NAB evaluation: deterministic folds, and a threshold chosen on training files only."""

from __future__ import annotations

import pytest

from bench.nab.corpus import LabelledFile
from bench.nab.profiles import STANDARD
from bench.nab.scoring import sweep_file
from bench.nab.validation import evaluate_config, make_splits
from tests.sidecar.nab_files import ROWS, labelled_file


def corpus() -> list[LabelledFile]:
    names = [f"catA/a{i}.csv" for i in range(5)] + [f"catB/b{i}.csv" for i in range(4)] + ["catC/c0.csv"]
    return [labelled_file(name, [(200, 249)]) for name in reversed(names)]


def test_every_file_is_held_out_exactly_once_per_scheme_and_never_trained_on() -> None:
    files = corpus()
    splits = make_splits(files, 4)
    assert make_splits(files, 4) == splits
    for scheme in ("4-fold", "category"):
        held = [i for s in splits if s.scheme == scheme for i in s.held_out]
        assert sorted(held) == list(range(len(files)))
    for split in splits:
        assert not set(split.train) & set(split.held_out)
        assert len(split.train) + len(split.held_out) == len(files)
    categories = {s.name: {files[i].relative_path.split("/")[0] for i in s.held_out} for s in splits}
    assert categories["catA"] == {"catA"} and categories["catC"] == {"catC"}
    assert [len(s.held_out) for s in splits if s.scheme == "4-fold"] == [3, 3, 2, 2]


def test_repeated_partitions_each_hold_every_file_out_once_and_differ() -> None:
    files = corpus()
    splits = make_splits(files, 4, repeats=5)
    assert make_splits(files, 4, repeats=5) == splits
    assert [s for s in splits if s.repeat == 0] == make_splits(files, 4)  # the first is the round robin
    partitions = []
    for repeat in range(5):
        folds = [s for s in splits if s.scheme == "4-fold" and s.repeat == repeat]
        assert len(folds) == 4
        assert sorted(i for s in folds for i in s.held_out) == list(range(len(files)))
        for split in folds:
            assert not set(split.train) & set(split.held_out)
        partitions.append(frozenset(frozenset(s.held_out) for s in folds))
    assert len(set(partitions)) == 5


def test_held_out_files_are_scored_at_the_training_threshold() -> None:
    # Training files detect their window at score 0.9 and have noise up to 0.6; the held-out file's
    # window only reaches 0.5: a threshold fitted on it would find it, the training threshold misses it.
    files = [labelled_file("catA/train.csv", [(200, 249)]), labelled_file("catB/held.csv", [(200, 249)])]
    train_scores = [0.6 if i % 50 == 0 else 0.0 for i in range(ROWS)]
    train_scores[205] = 0.9
    held_scores = [0.0] * ROWS
    held_scores[205] = 0.5
    swept = [
        sweep_file(scores, f.window_bounds, STANDARD, f.relative_path)
        for scores, f in zip((train_scores, held_scores), files, strict=True)
    ]
    split = next(s for s in make_splits(files, 2) if s.name == "catB")
    in_sample, outcomes = evaluate_config(swept, [split], STANDARD)
    outcome = outcomes[split]
    assert outcome.threshold == pytest.approx(0.9)
    assert outcome.held_out_raw == pytest.approx(-STANDARD.fn_weight)  # the held-out window is missed
    assert in_sample > outcome.train_raw + outcome.held_out_raw  # in sample, one threshold finds both
