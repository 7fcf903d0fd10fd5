"""``otel-ops anomaly score``: output shape and clear failures on bad input."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_ops.cli import app

runner = CliRunner()


def write_series(path: Path, rows: int) -> Path:
    lines = ["timestamp,value"]
    for i in range(rows):
        minute = i * 5
        lines.append(
            f"2024-05-01 {minute // 60 % 24:02d}:{minute % 60:02d}:00,{50 + 10 * math.sin(i / 20):.4f}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_score_writes_timestamp_value_score_for_every_row(tmp_path: Path) -> None:
    source = write_series(tmp_path / "series.csv", 250)
    target = tmp_path / "scored.csv"
    result = runner.invoke(app, ["anomaly", "score", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    with target.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["timestamp", "value", "anomaly_score"]
    assert len(rows) == 251
    assert rows[1][0] == "2024-05-01 00:00:00"
    assert float(rows[2][1]) == pytest.approx(50 + 10 * math.sin(1 / 20), abs=1e-4)
    assert all(0.0 <= float(r[2]) <= 1.0 for r in rows[1:])


def test_score_defaults_to_stdout(tmp_path: Path) -> None:
    source = write_series(tmp_path / "series.csv", 30)
    result = runner.invoke(app, ["anomaly", "score", str(source)])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "timestamp,value,anomaly_score"
    assert len(lines) == 31


@pytest.mark.parametrize(
    ("content", "expected_message"),
    [
        ("time,value\n2024-05-01 00:00:00,1\n", "line 1"),
        ("timestamp,value\n2024-05-01 00:00:00,1\n2024-05-01 00:05:00,abc\n", "line 3"),
        ("timestamp,value\n2024-05-01 00:00:00,1\nyesterday,2\n", "cannot read the timestamp 'yesterday'"),
        ("timestamp,value\n2024-05-01 00:00:00,1\n2024-05-01 00:05\n", "expected 2 columns, found 1"),
        ("", "timestamp,value"),
    ],
)
def test_score_rejects_bad_csv_with_line_and_fix(tmp_path: Path, content: str, expected_message: str) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(content)
    target = tmp_path / "out.csv"
    result = runner.invoke(app, ["anomaly", "score", str(source), "-o", str(target)])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert expected_message in message
    assert not target.exists()


def test_score_reports_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["anomaly", "score", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "file not found" in result.stderr


def write_spike_then_frozen_gauge(path: Path) -> tuple[Path, str, str]:
    """Ten days of a 5-minute CPU gauge: a spike, and four hours later the gauge freezes. Returns the file
    and the timestamps of the spike's row and of the freeze's first alerting row."""
    from tests.sidecar.test_anomaly_frozen import FREEZE, HOUR, cpu_gauge

    values = cpu_gauge(0, freeze_points=6 * HOUR)
    spike = FREEZE - 4 * HOUR
    values[spike] += 60
    start = 1_700_006_400
    lines = ["timestamp,value", *(f"{start + i * 300},{v:.6f}" for i, v in enumerate(values))]
    path.write_text("\n".join(lines) + "\n")
    return path, str(start + spike * 300), str(start + (FREEZE + 5) * 300)


def test_scoring_to_a_file_lists_the_incidents_and_their_evidence(tmp_path: Path) -> None:
    source, spike, frozen = write_spike_then_frozen_gauge(tmp_path / "gauge.csv")
    result = runner.invoke(
        app, ["anomaly", "score", str(source), "-o", str(tmp_path / "scored.csv")], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    table = result.stdout
    assert "2 incidents (a live job sends one alert for each)" in table
    spike_row = next(line for line in table.splitlines() if spike in line)
    frozen_row = next(line for line in table.splitlines() if frozen in line)
    assert "spike / level shift" in spike_row and "1.000" in spike_row
    assert "frozen value" in frozen_row
    assert " 24 " in frozen_row  # its alerting rows: the run's rising score, one incident
    assert "frozen value: the same value repeated far longer than the series' own repeats" in table
    assert "wrote 2880 rows" in result.stderr
    # To stdout, the CSV is all there is.
    piped = runner.invoke(app, ["anomaly", "score", str(source)])
    assert piped.exit_code == 0
    assert len(piped.stdout.strip().splitlines()) == 2881
