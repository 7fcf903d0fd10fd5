"""Settings: environment, flags and clear errors naming the setting."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_ops.cli import app as cli
from otel_ops.sidecar.jobs import JobsFileError, load_jobs
from otel_ops.sidecar.settings import SettingsError, SidecarSettings, load_settings


def test_defaults_env_and_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_OPS_PORT", "9100")
    monkeypatch.setenv("OTEL_OPS_SQLITE_PATHS", "a.db, b.db")
    settings = load_settings(port=9200)
    assert (settings.host, settings.port) == ("127.0.0.1", 9200)
    assert settings.sqlite_paths == [Path("a.db"), Path("b.db")]
    assert str(settings.prometheus_url) == "http://localhost:9090/"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_OPS_PORT": "http"}, "OTEL_OPS_PORT: Input should be a valid integer"),
        ({"OTEL_OPS_PROMETHEUS_URL": "localhost"}, "OTEL_OPS_PROMETHEUS_URL"),
        ({"OTEL_OPS_CHECK_TIMEOUT": "0"}, "OTEL_OPS_CHECK_TIMEOUT"),
        ({"OTEL_OPS_POSTGRES_DSNS": "mysql://x"}, "OTEL_OPS_POSTGRES_DSNS"),
        ({"OTEL_OPS_API_TOKEN": "a", "OTEL_OPS_API_TOKEN_FILE": "/etc/hostname"}, "not both"),
        ({"OTEL_OPS_API_TOKEN_FILE": "/nonexistent/token"}, "OTEL_OPS_API_TOKEN_FILE: cannot read"),
        ({"OTEL_OPS_DISK_FAIL_FREE_PERCENT": "50"}, "OTEL_OPS_DISK_FAIL_FREE_PERCENT must be below"),
    ],
)
def test_bad_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()
    result = CliRunner().invoke(cli, ["sidecar"])
    assert result.exit_code == 2 and message.split(":")[0] in result.output


@pytest.mark.parametrize("port", ["0", "99999", "http"])
def test_a_bad_port_flag_names_the_flag(port: str) -> None:
    result = CliRunner().invoke(cli, ["sidecar", "--port", port])
    assert result.exit_code == 2 and "Invalid value for '--port'" in result.output


def test_a_port_in_use_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_OPS_DATA_DIR", str(tmp_path / "data"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["sidecar", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in " ".join(result.output.split())
    assert not list(tmp_path.iterdir())  # nothing created
    refused = CliRunner().invoke(
        cli, ["sidecar", "--host", "192.0.2.1", "--port", str(port)]
    )  # no such interface
    assert refused.exit_code == 1 and "cannot listen on 192.0.2.1" in refused.output


def test_an_uncreatable_data_dir_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("OTEL_OPS_DATA_DIR", str(tmp_path / "a-file" / "data"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free: the data directory is checked after the address
    result = CliRunner().invoke(cli, ["sidecar", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert "OTEL_OPS_DATA_DIR: cannot create" in " ".join(result.output.split())


def test_a_jobs_file_without_jobs_is_warned_about(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text("jobs: []\n")
    (tmp_path / "a-file").write_text("")
    # An uncreatable data directory stops the sidecar after the jobs file was read, before it serves.
    monkeypatch.setenv("OTEL_OPS_DATA_DIR", str(tmp_path / "a-file" / "data"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(
        cli, ["sidecar", "--port", str(port)], env={"OTEL_OPS_ANOMALY_JOBS_FILE": str(jobs)}
    )
    assert result.exit_code == 2, result.output
    assert f"no jobs defined in {jobs} (OTEL_OPS_ANOMALY_JOBS_FILE)" in " ".join(result.output.split())


def test_bad_anomaly_jobs_file(tmp_path: Path) -> None:
    path = tmp_path / "jobs.yaml"
    path.write_text(
        "jobs:\n  - name: x\n    query: up\n    interval_seconds: 0\n    detector: {alert_score: 3}\n"
    )
    with pytest.raises(JobsFileError) as caught:
        load_jobs(path)
    assert "jobs.0.interval_seconds" in str(caught.value) and "jobs.0.detector.alert_score" in str(
        caught.value
    )
    result = CliRunner().invoke(cli, ["sidecar"], env={"OTEL_OPS_ANOMALY_JOBS_FILE": str(path)})
    assert result.exit_code == 2 and "interval_seconds" in result.output


@pytest.mark.parametrize(
    ("detector", "message"),
    [
        ("{seasonal: {periods_seconds: [0]}}", "periods_seconds [0] shorter than slot_seconds (1800)"),
        ("{seasonal: {periods_seconds: [86400, 600]}}", "periods_seconds [600] shorter than slot_seconds"),
        ("{pattern: {window_steps: 6}}", "must be a power of two (a shape is halved down to one level)"),
    ],
)
def test_detector_settings_a_job_could_not_score_with_are_refused(
    tmp_path: Path, detector: str, message: str
) -> None:
    """Refused when the file is read, not when the job first scores (a division by zero, a shape that
    cannot be halved)."""
    path = tmp_path / "jobs.yaml"
    path.write_text(f"jobs:\n  - name: x\n    query: up\n    detector: {detector}\n")
    with pytest.raises(JobsFileError, match=re.escape(message)):
        load_jobs(path)


def test_jobs_with_equal_detector_settings_share_one_copy(tmp_path: Path) -> None:
    # A hundred jobs with the same detector settings keep one settings object, not a hundred.
    path = tmp_path / "jobs.yml"
    path.write_text(
        "jobs:\n"
        "  - {name: a, query: up, detector: {alert_score: 0.6}}\n"
        "  - {name: b, query: up, detector: {alert_score: 0.6}}\n"
        "  - {name: c, query: up, detector: {alert_score: 0.7}}\n"
        "  - {name: d, query: up}\n"
        "  - {name: e, query: up}\n"
    )
    a, b, c, d, e = load_jobs(path)
    assert a.detector is b.detector and a.detector.alert_score == 0.6
    assert c.detector is not a.detector and c.detector.alert_score == 0.7
    assert d.detector is e.detector


def test_every_setting_is_listed_in_the_readme_and_by_the_command() -> None:
    from otel_ops.sidecar.backup.settings import BackupSettings
    from otel_ops.sidecar.settings_reference import markdown, rows

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert markdown() in readme, "README's settings reference is stale: paste settings_reference.markdown()"
    listed = CliRunner().invoke(cli, ["sidecar", "--settings"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    for settings in (SidecarSettings, BackupSettings):
        for name, _, meaning in rows(settings):
            assert name in listed.output
            assert meaning, f"{name} has no description"
