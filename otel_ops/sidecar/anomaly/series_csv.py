"""Reading ``timestamp,value`` CSV files, with errors that say which line is wrong and how to fix it.

Rows are kept in file order, whatever their timestamps (out of order, repeated, with gaps): scoring
handles those in arrival order (:mod:`otel_ops.sidecar.anomaly.arrival`).  A missing value (an empty
cell, ``nan``, ``null``, ``inf`` ...) is kept as NaN for the same reason.  Only a file that cannot be read
as a series at all (no header, a timestamp or value that is not one) is refused, and so is a path that is not
a readable UTF-8 text file (a directory, a named pipe, binary data), each with a one-line error.
"""

from __future__ import annotations

import csv
import io
import math
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REQUIRED_COLUMNS = ("timestamp", "value")
MISSING_VALUE_TEXTS = frozenset({"", "nan", "-nan", "null", "none", "na", "n/a", "-", "inf", "+inf", "-inf"})
UTF8_BOM = "\ufeff"

# What a path that is not a regular file is, for the error (``stat`` type test, description).
_NOT_REGULAR = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class UnreadableFileError(ValueError):
    """A path that is not a readable UTF-8 text file: ``problem`` says why in a few words (``file not
    found``, ``is a directory, not a regular file``, ``permission denied``, ``not a UTF-8 text file (byte
    0xff at offset 1)``); ``line`` is the line of an undecodable byte."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.problem = problem
        self.line = line
        super().__init__(problem)

    @property
    def undecodable(self) -> bool:
        """The file was read, but it is not UTF-8 text."""
        return self.line is not None


def read_text_file(path: Path) -> str:
    """The whole text of a regular UTF-8 file (a leading byte order mark dropped).

    Anything else raises :class:`UnreadableFileError` instead of an ``OSError`` or ``UnicodeDecodeError``:
    a missing file, a directory, a named pipe (refused before it is opened, which would wait for a writer),
    a file that cannot be read, bytes that are not UTF-8.  Shared by the series and jobs file readers."""
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _NOT_REGULAR if test(mode)), "a special file")
            raise UnreadableFileError(f"is {kind}, not a regular file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFileError("file not found") from None
    except PermissionError:
        raise UnreadableFileError("permission denied") from None
    except OSError as exc:
        raise UnreadableFileError(f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UnreadableFileError(
            f"not a UTF-8 text file (byte 0x{data[exc.start]:02x} at offset {exc.start})", line
        ) from None
    return text.removeprefix(UTF8_BOM)


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
    try:
        text = read_text_file(path)
    except UnreadableFileError as exc:
        if exc.problem == "file not found":
            fix = "Check the path."
        elif exc.problem == "permission denied":
            fix = "Check the file's permissions, or copy it somewhere readable."
        else:
            fix = "Give a CSV of timestamp,value rows" + (", saved as UTF-8." if exc.undecodable else ".")
        # An undecodable byte on the first line: the file is not text at all, its line says nothing.
        line = exc.line if exc.line is not None and exc.line > 1 else None
        raise SeriesFormatError(path, line, exc.problem, fix) from None
    return _read_rows(path, text)


def _read_rows(path: Path, text: str) -> TimeSeries:
    series = TimeSeries()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
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
    except csv.Error as exc:  # a field longer than the csv module's limit, say: binary data with no newline
        raise SeriesFormatError(
            path, reader.line_num, f"not readable as CSV ({exc})", "Give a CSV of timestamp,value rows."
        ) from None
    return series
