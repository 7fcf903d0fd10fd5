"""``otel-ops anomaly score`` and ``anomaly check`` on input they cannot use: one-line errors, never a
traceback; an output that is the input refused; a series too short for the detectors warned about."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from otel_ops.cli import app
from otel_ops.sidecar.anomaly import EnsembleConfig, scale_to_step
from otel_ops.sidecar.anomaly.warmup import full_strength_points

runner = CliRunner()
START = 1_714_521_600  # 2024-05-01 00:00 UTC


def one_line(text: str) -> str:
    return " ".join(text.split())


def assert_one_line_error(result: Result, code: int, message: str) -> None:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0], lines[0]


def write_series(path: Path, points: int, step: int, extra_column: bool = False) -> Path:
    """A flat, noisy series of ``points`` rows ``step`` seconds apart."""
    rng = random.Random(7)
    header = "timestamp,value,host\n" if extra_column else "timestamp,value\n"
    rows = (
        f"{START + i * step},{100 + rng.gauss(0, 1):.4f}{',a' if extra_column else ''}\n"
        for i in range(points)
    )
    path.write_text(header + "".join(rows))
    return path


# 1. Files that are not readable UTF-8 text


def test_score_refuses_binary_data_in_one_line(tmp_path: Path) -> None:
    source = tmp_path / "bin.csv"
    source.write_bytes(b"\x00\xff\xfe garbage")
    target = tmp_path / "out.csv"
    result = runner.invoke(app, ["anomaly", "score", str(source), "-o", str(target)])
    assert_one_line_error(
        result,
        1,
        f"{source}: not a UTF-8 text file (byte 0xff at offset 1). Give a CSV of timestamp,value rows",
    )
    assert not target.exists()


def test_score_names_the_line_of_a_byte_that_is_not_utf8(tmp_path: Path) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes("timestamp,value\n2024-05-01 00:00:00,1\n2024-05-01 00:05:00,2 °C\n".encode("latin-1"))
    result = runner.invoke(app, ["anomaly", "score", str(source)])
    assert_one_line_error(result, 1, f"{source}, line 3: not a UTF-8 text file (byte 0xb0 at offset 60)")


def test_score_refuses_a_field_the_csv_module_cannot_hold(tmp_path: Path) -> None:
    source = tmp_path / "huge.csv"
    source.write_text('timestamp,value\n"' + "x" * 200_000 + "\n")
    result = runner.invoke(app, ["anomaly", "score", str(source)])
    assert_one_line_error(result, 1, f"{source}, line 2: not readable as CSV (field larger than field limit")


@pytest.mark.timeout(30)  # the old code would wait for a writer to open the pipe
@pytest.mark.parametrize("command", ["score", "check"])
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.mkdir(), "is a directory, not a regular file"),
        (os.mkfifo, "is a named pipe (FIFO), not a regular file"),
    ],
    ids=["directory", "fifo"],
)
def test_paths_that_are_not_files_are_refused_in_one_line(
    tmp_path: Path, command: str, make: object, message: str
) -> None:
    path = tmp_path / "input.csv"
    make(path)  # type: ignore[operator]
    result = runner.invoke(
        app, ["anomaly", command, str(path)] + (["--no-query"] if command == "check" else [])
    )
    assert_one_line_error(result, 1 if command == "score" else 2, f"{path}: {message}")


@pytest.mark.parametrize("command", ["score", "check"])
def test_a_file_that_cannot_be_read_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    # chmod 000 does not stop root (these tests may run as root): the read itself is made to fail.
    path = write_series(tmp_path / "locked.csv", 10, 60)

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    monkeypatch.setattr(Path, "read_text", lambda self, *args, **kwargs: denied(self).decode())
    monkeypatch.setattr(Path, "open", lambda self, *args, **kwargs: denied(self))
    args = ["anomaly", command, str(path)] + (["--no-query"] if command == "check" else [])
    result = runner.invoke(app, args)
    assert_one_line_error(result, 1 if command == "score" else 2, f"{path}: permission denied")


def test_check_refuses_binary_data_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\x00\xff\xfe garbage")
    result = runner.invoke(app, ["anomaly", "check", str(path), "--no-query"])
    assert_one_line_error(
        result,
        2,
        f"{path}: not a UTF-8 text file (byte 0xff at offset 1); expected a YAML mapping with a 'jobs:'",
    )


# 2. The output is the input


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink", "hardlink"])
def test_score_refuses_to_write_over_its_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    source = write_series(tmp_path / "x.csv", 50, 60, extra_column=True)
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    target = {"same": "x.csv", "dotted": "sub/../x.csv", "symlink": "link.csv", "hardlink": "hard.csv"}
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(source)
    os.link(source, tmp_path / "hard.csv")
    result = runner.invoke(app, ["anomaly", "score", "x.csv", "-o", target[spelling]])
    assert_one_line_error(result, 1, f"-o {target[spelling]} is the input file")
    assert "Write them to another file" in result.stderr
    assert source.read_bytes() == before


def test_score_still_writes_next_to_its_input(tmp_path: Path) -> None:
    source = write_series(tmp_path / "x.csv", 50, 60)
    result = runner.invoke(app, ["anomaly", "score", str(source), "-o", str(tmp_path / "x.scored.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x.scored.csv").read_text().startswith("timestamp,value,anomaly_score\n")


# 3. Too little history for the detectors


def test_a_short_series_is_warned_about_with_the_history_it_has_and_needs(tmp_path: Path) -> None:
    source = write_series(tmp_path / "short.csv", 300, 60)
    result = runner.invoke(app, ["anomaly", "score", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.stderr
    assert (
        f"{source}: only 5 hours of history (300 points, 1 minute apart); the detectors need about 2.5 days "
        "(3600 points) before their scores reach full strength" in warnings[0]
    )
    assert "wrote 300 rows" in result.stderr


def test_the_history_needed_follows_the_series_step(tmp_path: Path) -> None:
    source = write_series(tmp_path / "hourly.csv", 24, 3600)
    result = runner.invoke(app, ["anomaly", "score", str(source)])
    assert result.exit_code == 0, result.output
    assert "only 1 day of history (24 points, 1 hour apart); the detectors need about 3 days (72 points)" in (
        one_line(result.stderr)
    )


def test_a_long_enough_series_is_not_warned_about(tmp_path: Path) -> None:
    source = write_series(tmp_path / "long.csv", 3 * 288, 300)  # three days of 5-minute points
    result = runner.invoke(app, ["anomaly", "score", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr and "wrote 864 rows" in result.stderr


@pytest.mark.parametrize("step", [10, 60, 300])
def test_the_help_states_the_history_the_default_detectors_need(step: int) -> None:
    needed = full_strength_points(scale_to_step(EnsembleConfig(), step), step) * step
    assert needed / 86_400 == pytest.approx(2.5, abs=0.05)
    help_text = one_line(runner.invoke(app, ["anomaly", "score", "--help"]).stdout)
    assert (
        "need history before their scores mean much (about 2.5 days of points at the default settings)"
        in (help_text)
    )


def test_the_history_needed_is_where_a_huge_spike_starts_to_score_in_full() -> None:
    """What ``full_strength_points`` claims for the spike detector, measured: a flat 1-minute series with an
    80-sigma spike as its last point scores nothing just before, and 1.0 from there on (about 13 hours)."""
    from otel_ops.sidecar.anomaly import EnsembleDetector

    step = 60
    alone = EnsembleConfig(
        seasonal=None, novelty=None, pattern=None, absence=None, activity_absence=None, frozen=None
    )
    needed = full_strength_points(scale_to_step(alone, step), step)

    def spike_score(points: int) -> float:
        rng = random.Random(3)
        detector = EnsembleDetector()
        for i in range(points - 1):
            detector.update(START + i * step, 100 + rng.gauss(0, 1))
        return detector.update(START + (points - 1) * step, 180).components["spike"]

    assert spike_score(needed - 10) < 0.5
    assert spike_score(needed + 10) == 1.0
    assert needed * step / 3600 == pytest.approx(12.75, abs=0.1)


# 4. Jobs files that are not a mapping of jobs


@pytest.mark.parametrize(
    ("name", "content", "found"),
    [
        ("empty.yml", "", "found an empty file"),
        ("blank.yml", "# just a comment\n", "found an empty file"),
        (
            "series.csv",
            "timestamp,value\n2024-05-01 00:00:00,1\n",
            "found plain text ('timestamp,value 2024-05-01",
        ),
        ("list.yml", "- name: x\n  query: up\n", "found a list"),
        ("number.yml", "3\n", "found the single value 3"),
    ],
)
def test_check_explains_a_file_that_is_not_a_mapping_of_jobs(
    tmp_path: Path, name: str, content: str, found: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = runner.invoke(app, ["anomaly", "check", str(path), "--no-query"])
    assert_one_line_error(result, 2, f"{path}: expected a YAML mapping with a 'jobs:' list, {found}")
    assert "see 'otel-ops anomaly check --help'" in result.stderr
    assert "Input should be" not in result.stderr


def test_check_explains_a_json_file_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text('[{"name": "x", "query": "up"}]')
    result = runner.invoke(app, ["anomaly", "check", str(path), "--no-query"])
    assert_one_line_error(result, 2, f"{path}: expected a JSON object with a 'jobs' list, found a list")


def test_the_sidecar_refuses_an_empty_jobs_file_with_the_same_words(tmp_path: Path) -> None:
    path = tmp_path / "jobs.yml"
    path.write_text("")
    result = runner.invoke(app, ["sidecar"], env={"OTEL_OPS_ANOMALY_JOBS_FILE": str(path)})
    assert result.exit_code == 2, result.output
    assert f"{path}: expected a YAML mapping with a 'jobs:' list, found an empty file" in one_line(
        result.output
    )


@pytest.mark.parametrize("query", ["--no-query", "--query"])
def test_check_warns_about_a_file_without_jobs_and_passes_it(tmp_path: Path, query: str) -> None:
    """Valid for the sidecar too (it runs no job), so exit 0; ``--query`` asks no Prometheus for no job."""
    path = tmp_path / "jobs.yml"
    path.write_text("jobs: []\n")
    dead = "http://127.0.0.1:9"
    result = runner.invoke(app, ["anomaly", "check", str(path), query, "--prometheus", dead])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: no jobs defined in {path}: the sidecar would run no anomaly job"
    ]
    assert "0 jobs valid" not in result.stdout
