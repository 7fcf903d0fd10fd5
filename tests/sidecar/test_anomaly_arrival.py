"""Real-world series are scored, never refused: clock steps, out-of-order and repeated timestamps, gaps and
missing values are scored in arrival order with a warning that counts each kind."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_ops.cli import app
from otel_ops.sidecar.anomaly import ArrivalGuard, Oddity

runner = CliRunner()
START = dt.datetime(2024, 5, 1)
STEP = dt.timedelta(minutes=5)
ROWS = 900
SPIKE_AT = 700


def clean_rows(rows: int = ROWS, spike_at: int | None = SPIKE_AT) -> list[tuple[dt.datetime, str]]:
    """A slow wave with deterministic jitter, one row every 5 minutes, a spike at ``spike_at``."""
    result = []
    for i in range(rows):
        value = 50 + 10 * math.sin(i / 40) + 0.7 * math.sin(i * 1.7) + 0.4 * math.cos(i * 2.9)
        if i == spike_at:
            value += 40
        result.append((START + i * STEP, f"{value:.4f}"))
    return result


def write_rows(path: Path, rows: list[tuple[dt.datetime | str, str]]) -> Path:
    lines = ["timestamp,value"]
    for when, value in rows:
        text = when if isinstance(when, str) else f"{when:%Y-%m-%d %H:%M:%S}"
        lines.append(f"{text},{value}")
    path.write_text("\n".join(lines) + "\n")
    return path


Rows = list[tuple[dt.datetime | str, str]]


def score(tmp_path: Path, rows: Rows, name: str) -> tuple[list[list[str]], str]:
    """(scored rows without header, the warning text) of ``otel-ops anomaly score`` on these rows."""
    source = write_rows(tmp_path / f"{name}.csv", rows)
    target = tmp_path / f"{name}-scored.csv"
    result = runner.invoke(app, ["anomaly", "score", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    with target.open() as handle:
        scored = list(csv.reader(handle))
    assert scored[0] == ["timestamp", "value", "anomaly_score"]
    return scored[1:], " ".join(result.stderr.split())


def test_clock_stepping_back_an_hour_scores_every_row_like_the_unstepped_file(tmp_path: Path) -> None:
    clean = clean_rows()
    stepped = [(when - dt.timedelta(hours=1) if i >= 400 else when, v) for i, (when, v) in enumerate(clean)]
    baseline, quiet = score(tmp_path, clean, "clean")
    scored, warning = score(tmp_path, stepped, "stepped")

    assert len(scored) == ROWS
    assert [row[0] for row in scored] == [f"{when:%Y-%m-%d %H:%M:%S}" for when, _ in stepped]
    assert [row[2] for row in scored] == [row[2] for row in baseline]
    assert float(scored[SPIKE_AT][2]) >= 0.5
    assert "1 timestamp earlier than the previous one (first at line 402" in warning
    assert "clock stepped back" in warning
    assert "warning" not in quiet


def test_missing_values_score_zero_and_are_counted(tmp_path: Path) -> None:
    rows: list[tuple[dt.datetime | str, str]] = list(clean_rows())
    for index, text in ((100, ""), (300, "nan"), (500, "NULL"), (650, "inf")):
        rows[index] = (rows[index][0], text)
    scored, warning = score(tmp_path, rows, "missing")

    assert len(scored) == ROWS
    for index in (100, 300, 500, 650):
        assert scored[index][1] == "" and float(scored[index][2]) == 0.0
    assert float(scored[SPIKE_AT][2]) >= 0.5
    assert "4 missing or non-finite values (first at line 102; scored 0, not learnt)" in warning


def test_repeated_timestamps_are_scored_in_file_order(tmp_path: Path) -> None:
    rows: list[tuple[dt.datetime | str, str]] = list(clean_rows())
    rows.insert(201, (rows[200][0], rows[200][1]))
    rows.insert(451, (rows[450][0], "51.0"))
    scored, warning = score(tmp_path, rows, "repeated")

    assert len(scored) == ROWS + 2
    assert scored[451][1] == "51.0"
    assert "2 repeated timestamps (first at line 203" in warning


def test_gaps_are_scored_and_their_missing_points_counted(tmp_path: Path) -> None:
    rows = [row for i, row in enumerate(clean_rows()) if not 300 <= i < 320 and not 500 <= i < 505]
    scored, warning = score(tmp_path, rows, "gaps")

    assert len(scored) == len(rows)
    assert float(scored[SPIKE_AT - 25][2]) >= 0.5  # the spike, 25 rows earlier in the file
    assert "2 gaps (first at line 302; about 25 points missing" in warning


def test_rows_out_of_order_are_each_counted(tmp_path: Path) -> None:
    rows = clean_rows()
    rows[250], rows[251] = rows[251], rows[250]
    rows[600], rows[601] = rows[601], rows[600]
    scored, warning = score(tmp_path, rows, "swapped")

    assert len(scored) == ROWS
    assert float(scored[SPIKE_AT][2]) >= 0.5
    assert "2 timestamps earlier than the previous one (first at line 253" in warning
    # Streaming, the row after the late one's place first looks like a one-point gap.
    assert "2 gaps (first at line 252; about 2 points missing" in warning
    assert "repeated" not in warning


def test_every_kind_in_one_file_is_counted_per_kind(tmp_path: Path) -> None:
    rows: list[tuple[dt.datetime | str, str]] = list(clean_rows())
    rows[100] = (rows[100][0], "nan")
    rows.insert(201, rows[200])
    rows = rows[:300] + rows[310:]
    rows = [(when - dt.timedelta(hours=1), v) if i >= 600 else (when, v) for i, (when, v) in enumerate(rows)]
    scored, warning = score(tmp_path, rows, "everything")

    assert len(scored) == len(rows)
    assert "1 timestamp earlier than the previous one" in warning
    assert "1 repeated timestamp (" in warning
    assert "1 gap (" in warning and "about 10 points missing" in warning
    assert "1 missing or non-finite value (" in warning


def test_unreadable_value_text_is_still_an_error(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("timestamp,value\n2024-05-01 00:00:00,1\n2024-05-01 00:05:00,abc\n")
    result = runner.invoke(app, ["anomaly", "score", str(source)])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "line 3" in message and "'abc' is not a number" in message


@pytest.mark.parametrize("expected_step", [None, 60.0])
def test_detector_clock_never_goes_back_and_keeps_the_step_offset(expected_step: float | None) -> None:
    guard = ArrivalGuard(expected_step)
    times = [guard.admit(1_000.0 + 60 * i, 1.0).detector_time for i in range(10)]
    stepped = [guard.admit(1_000.0 + 60 * i - 3_600, 1.0) for i in range(10, 20)]
    assert stepped[0].oddities == (Oddity.EARLIER,)
    assert all(not a.oddities for a in stepped[1:])
    detector_times = times + [a.detector_time for a in stepped]
    assert [b - a for a, b in itertools.pairwise(detector_times)] == [60.0] * 19
