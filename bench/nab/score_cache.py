"""Per-file anomaly scores cached on disk, keyed by the detector code, the settings and the data file.

Scoring the corpus is the slow part of every NAB experiment; the scores of one file under one
``EnsembleConfig`` only change when the detector code, the settings or the file change, so they are kept
in ``~/.cache/otel-ops/nab-scores`` (override with ``OTEL_OPS_NAB_CACHE``) and reused.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

from bench.nab.corpus import LabelledFile
from otel_ops.sidecar.anomaly import EnsembleConfig, score_series

DETECTOR_SOURCES = Path(__file__).resolve().parents[2] / "otel_ops" / "sidecar" / "anomaly"


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "otel-ops" / "nab-scores"
    return Path(os.environ.get("OTEL_OPS_NAB_CACHE") or default)


@functools.cache
def detector_code_digest() -> str:
    digest = hashlib.sha256()
    for source in sorted(DETECTOR_SOURCES.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _key(config: EnsembleConfig, labelled: LabelledFile) -> str:
    digest = hashlib.sha256()
    digest.update(detector_code_digest().encode())
    digest.update(config.model_dump_json().encode())
    digest.update(labelled.relative_path.encode())
    digest.update(np.asarray(labelled.series.epoch_seconds).tobytes())
    digest.update(np.asarray(labelled.series.values).tobytes())
    return digest.hexdigest()[:32]


def cached_scores(config: EnsembleConfig, labelled: LabelledFile) -> list[float]:
    """The file's scores under ``config``: from the cache when present, else computed and stored."""
    path = cache_dir() / f"{_key(config, labelled)}.npy"
    if path.exists():
        return np.load(path).tolist()
    series = labelled.series
    scores = score_series(series.epoch_seconds, series.values, config)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(partial, np.asarray(scores, dtype=np.float64))
    partial.replace(path)
    return scores
