"""Where the stack files come from: the files shipped with otel-ops, or the user's copies in
``--config-dir`` / ``OTEL_OPS_CONFIG_DIR`` (for every stack command and the sidecar's configuration
backup)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_ops.cli import app
from otel_ops.sidecar.backup import BackupSettings
from otel_ops.stack import collector_build, files
from otel_ops.stack.config_copies import default_files, write_copies
from tests.packaging.conftest import REPO


@pytest.fixture(autouse=True)
def _no_config_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration directory, before and after: ``--config-dir`` sets the variable in this process."""
    monkeypatch.setenv(files.CONFIG_DIR_ENV, "")
    monkeypatch.delenv(files.CONFIG_DIR_ENV)


def test_a_checkout_uses_its_own_top_level_files() -> None:
    for directory in files.DIRECTORIES:
        assert files.path(directory) == REPO / directory
    assert collector_build.manifest_path() == REPO / "collector" / "manifest.yaml"


def test_init_copies_every_shipped_file(tmp_path: Path) -> None:
    written = write_copies(tmp_path / "conf")
    assert written == default_files()
    in_checkout = {
        p.relative_to(REPO) for d in files.DIRECTORIES for p in (REPO / d).rglob("*") if p.is_file()
    }
    local = {"secrets", "__pycache__", ".env"}
    assert {p for p in in_checkout if not local & set(p.parts) and p.suffix != ".pyc"} == set(written)
    for relative in written:
        assert (tmp_path / "conf" / relative).read_bytes() == (REPO / relative).read_bytes()


def test_the_config_dir_option_and_variable_choose_the_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = (tmp_path / "conf").resolve()
    write_copies(conf)
    result = CliRunner().invoke(
        app, ["collector", "config", "--backend", "prometheus", "--config-dir", str(conf)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.split() == [
        f"--config={conf}/collector/config/base.yaml",
        f"--config={conf}/collector/config/prometheus.yaml",
    ]
    # The option is passed on to the processes a command starts (the sidecar among them).
    assert Path(files.configured_root() or "") == conf
    monkeypatch.setenv(files.CONFIG_DIR_ENV, str(conf))
    assert BackupSettings().config_root == conf


def test_a_config_dir_that_does_not_exist_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    for command in (["collector", "config"], ["up"], ["demo"], ["sidecar"], ["collector", "path"]):
        result = CliRunner().invoke(app, [*command, "--config-dir", str(missing)])
        assert result.exit_code == 2, (command, result.output)
        assert f"configuration directory {missing} does not exist" in result.output
        assert f"otel-ops init {missing}" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_missing_fragment_names_the_file_and_the_directory(tmp_path: Path) -> None:
    conf = (tmp_path / "conf").resolve()
    write_copies(conf)
    (conf / "collector" / "config" / "loki.yaml").unlink()
    result = CliRunner().invoke(app, ["collector", "config", "--config-dir", str(conf)])
    assert result.exit_code == 1
    assert f"collector/config/loki.yaml is missing from the configuration directory {conf}" in result.output


def test_init_refuses_a_file_as_its_directory(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("")
    result = CliRunner().invoke(app, ["init", str(target)])
    assert result.exit_code == 1 and "is not a directory" in result.output
