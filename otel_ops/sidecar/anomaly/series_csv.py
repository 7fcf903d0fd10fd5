"""Reading ``timestamp,value`` CSV files, with errors that say which line is wrong and how to fix it.

Rows are kept in file order, whatever their timestamps (out of order, repeated, with gaps): scoring
handles those in arrival order (:mod:`otel_ops.sidecar.anomaly.arrival`).  A missing value (an empty
cell, ``nan``, ``null``, ``inf`` ...) is kept as NaN for the same reason.  Only a file that cannot be read
as a series at all (no header, a timestamp or value that is not one) is refused.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REQUIRED_COLUMNS = ("timestamp", "value")
MISSING_VALUE_TEXTS = frozenset({"", "nan", "-nan", "null", "none", "na", "n/a", "-", "inf", "+inf", "-inf"})


class SeriesFormatError(ValueError):
    """The file is not a usable ``timestamp,value`` series."""

    def __init__(self, path: Path, line: int | None, problem: str, fix: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        self.fix = fix
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}. {fix}")


@dataclass
class TimeSeries:
    """A series as read from a file, in file order: the timestamps' original text, as Unix seconds, the
    values (NaN where missing) and each row's line number in the file."""

    timestamp_text: list[str] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.values)


def parse_timestamp(text: str) -> float:
    """Unix seconds from ISO 8601 (``2024-05-01 12:00:00``, ``...T12:00:00Z``; naive means UTC) or epoch."""
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def parse_value(text: str) -> float:
    """The value of a cell: a finite number, or NaN for a missing one; ``ValueError`` for other text."""
    if text.strip().lower() in MISSING_VALUE_TEXTS:
        return math.nan
    value = float(text)
    return value if math.isfinite(value) else math.nan


def read_series_csv(path: Path) -> TimeSeries:
    """Read a whole file in file order; nothing is returned unless every row is readable."""
    if not path.exists():
        raise SeriesFormatError(path, None, "file not found", "Check the path.")
    if not path.is_file():
        raise SeriesFormatError(path, None, "not a regular file", "Pass a CSV file, not a directory.")

    series = TimeSeries()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        columns = [c.strip().lower() for c in header] if header else []
        if not all(name in columns for name in REQUIRED_COLUMNS):
            found = ",".join(header) if header else "an empty file"
            raise SeriesFormatError(
                path,
                1,
                f"expected a header naming the columns 'timestamp,value', found {found!r}",
                "Make the first line exactly: timestamp,value",
            )
        time_column = columns.index("timestamp")
        value_column = columns.index("value")
        needed = max(time_column, value_column) + 1

        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < needed:
                raise SeriesFormatError(
                    path,
                    line,
                    f"expected {needed} columns, found {len(row)}",
                    "Give every row a timestamp,value.",
                )
            time_text, value_text = row[time_column].strip(), row[value_column].strip()
            try:
                epoch = parse_timestamp(time_text)
            except ValueError:
                raise SeriesFormatError(
                    path,
                    line,
                    f"cannot read the timestamp {time_text!r}",
                    "Use ISO 8601 such as 2024-05-01 12:00:00 or 2024-05-01T12:00:00Z, or Unix seconds.",
                ) from None
            try:
                value = parse_value(value_text)
            except ValueError:
                raise SeriesFormatError(
                    path,
                    line,
                    f"the value {value_text!r} is not a number",
                    "Use a plain number such as 12.5; leave the cell empty (or 'nan') for a missing value.",
                ) from None
            series.timestamp_text.append(time_text)
            series.epoch_seconds.append(epoch)
            series.values.append(value)
            series.line_numbers.append(line)
    return series
