"""How much the NAB score depends on each detector setting: every numeric setting halved and doubled.

    .venv/bin/python -m bench.nab.sensitivity [--nab-dir DIR] [--workers 2] [--only pattern,novelty]

A score that holds only at one exact value of a setting is tuned to this data, not a property of the
detector; this prints, for each setting of the default ``EnsembleConfig`` (its detectors' settings
included), the standard-profile score with the setting at x0.5 and x2 next to the default's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pydantic import BaseModel, ValidationError

from bench.nab.corpus import DEFAULT_NAB_DIR, LabelledFile, load_corpus
from bench.nab.evaluation import evaluate
from bench.nab.profiles import STANDARD
from otel_ops.sidecar.anomaly import EnsembleConfig, score_series

_CORPUS: list[LabelledFile] = []


def _numeric_settings(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, float]]:
    """(dotted path, value) of every int/float setting, nested configs included."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            yield from _numeric_settings(value, path + ".")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield path, value


def _with(model: BaseModel, path: str, value: Any) -> BaseModel:
    head, _, rest = path.partition(".")
    if rest:
        return model.model_copy(update={head: _with(getattr(model, head), rest, value)})
    data = model.model_dump()
    data[head] = value
    return type(model).model_validate(data)  # validated: out-of-range variants are reported, not run


def _init(nab_dir: Path) -> None:
    _CORPUS[:] = load_corpus(nab_dir)


def _score_file(args: tuple[EnsembleConfig, int]) -> list[float]:
    config, index = args
    series = _CORPUS[index].series
    return score_series(series.epoch_seconds, series.values, config)


def standard_score(pool: ProcessPoolExecutor, config: EnsembleConfig) -> float:
    indices = range(len(_CORPUS))
    scores = dict(
        zip(
            (f.relative_path for f in _CORPUS),
            pool.map(_score_file, [(config, i) for i in indices]),
            strict=True,
        )
    )
    return evaluate(_CORPUS, scores, [STANDARD])["standard"].normalized


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nab-dir", type=Path, default=DEFAULT_NAB_DIR)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated prefixes of the settings to vary")
    args = parser.parse_args(argv)

    _init(args.nab_dir)
    default = EnsembleConfig()
    prefixes = tuple(p for p in args.only.split(",") if p)
    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(args.nab_dir,)) as pool:
        baseline = standard_score(pool, default)
        print(f"default EnsembleConfig: standard {baseline:.1f}")
        print(f"{'setting':45s} {'default':>10s} {'x0.5':>7s} {'x2':>7s}")
        for path, value in _numeric_settings(default):
            if prefixes and not path.startswith(prefixes):
                continue
            cells = []
            for factor in (0.5, 2.0):
                varied = type(value)(value * factor) if isinstance(value, int) else value * factor
                try:
                    config = _with(default, path, varied)
                except ValidationError:
                    cells.append("invalid")
                    continue
                cells.append(f"{standard_score(pool, config):.1f}")
            print(f"{path:45s} {value:>10g} {cells[0]:>7s} {cells[1]:>7s}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
