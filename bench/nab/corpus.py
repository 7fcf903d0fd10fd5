"""The NAB data files and their labelled anomaly windows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from otel_ops.sidecar.anomaly.series_csv import TimeSeries, parse_timestamp, read_series_csv

DEFAULT_NAB_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "nab"


@dataclass
class LabelledFile:
    """One data file of the corpus with its windows as inclusive row-index bounds."""

    relative_path: str
    series: TimeSeries
    window_bounds: list[tuple[int, int]]


def _window_index(series: TimeSeries, timestamp_text: str, relative_path: str) -> int:
    epoch = parse_timestamp(timestamp_text)
    try:
        return series.epoch_seconds.index(epoch)
    except ValueError:
        when = datetime.fromtimestamp(epoch, tz=UTC)
        raise ValueError(f"{relative_path}: window limit {when} is not a row of the file") from None


def load_corpus(nab_dir: Path = DEFAULT_NAB_DIR) -> list[LabelledFile]:
    """Every file listed in ``combined_windows.json``, sorted by path."""
    windows = json.loads((nab_dir / "combined_windows.json").read_text())
    corpus: list[LabelledFile] = []
    for relative_path in sorted(windows):
        series = read_series_csv(nab_dir / "data" / relative_path)
        bounds = [
            (_window_index(series, start, relative_path), _window_index(series, end, relative_path))
            for start, end in windows[relative_path]
        ]
        corpus.append(LabelledFile(relative_path, series, sorted(bounds)))
    return corpus
