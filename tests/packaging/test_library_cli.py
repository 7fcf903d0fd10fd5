"""The ``otel-ops`` command of the library alone (``pip install otel-ops``): ``run`` works and exports;
every other command says, in one line, how to install the operations layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import otel_ops
from otel_ops.entry_point import OPS_COMMANDS
from tests.support.environments import Environment
from tests.support.otlp_sink import OtlpSink

OPS_INSTALL = "pip install 'otel-ops[ops]'"

_SERVICE = """
import logging
from opentelemetry import trace
logging.getLogger("packaged").warning("hello from the packaged library")
with trace.get_tracer("packaged").start_as_current_span("packaged-work"):
    pass
"""


@pytest.fixture
def sink() -> Iterator[OtlpSink]:
    with OtlpSink(grpc_port=None) as receiver:
        yield receiver


def test_run_instruments_a_program_and_exports_with_the_library_alone(
    library: Environment, empty_dir: Path, sink: OtlpSink
) -> None:
    result = library.run(
        "otel-ops",
        "run",
        "--service-name",
        "packaged-service",
        "--endpoint",
        sink.http_endpoint,
        "--",
        "python",
        "-c",
        _SERVICE,
        cwd=empty_dir,
        env={"OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_BLRP_SCHEDULE_DELAY": "100"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    spans = sink.wait_for(lambda: [s for s in sink.spans() if s["name"] == "packaged-work"])
    assert spans[0]["resource"]["service.name"] == "packaged-service"
    logs = sink.wait_for(lambda: [r for r in sink.logs() if "hello from the packaged" in str(r["body"])])
    assert logs[0]["resource"]["service.name"] == "packaged-service"
    assert "hello from the packaged library" in result.stdout  # the JSON console line


def test_run_reports_bad_usage_without_a_traceback(library: Environment, empty_dir: Path) -> None:
    missing = library.run("otel-ops", "run", cwd=empty_dir)
    assert missing.returncode == 2 and "give the command to run after '--'" in missing.stderr
    unknown = library.run("otel-ops", "run", "--", "no-such-program-xyz", cwd=empty_dir)
    assert unknown.returncode == 127 and "command not found" in unknown.stderr
    assert "Traceback" not in missing.stderr + unknown.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["up"],
        ["status"],
        ["down"],
        ["demo", "--duration", "5"],
        ["collector", "path"],
        ["collector", "build"],
        ["sidecar"],
        ["init", "configs"],
        ["anomaly", "score", "series.csv"],
        ["anomaly", "check", "jobs.yaml"],
        ["backup", "list"],
        ["alerts", "list"],
    ],
    ids=" ".join,
)
def test_operations_commands_say_how_to_install_the_operations_layer(
    library: Environment, empty_dir: Path, command: list[str]
) -> None:
    result = library.run("otel-ops", *command, cwd=empty_dir)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"otel-ops {command[0]}:") and OPS_INSTALL in lines[0]
    assert not list(empty_dir.iterdir()), "the command left files behind"


@pytest.mark.parametrize("word", ["nonsense", "--bogus"])
def test_an_unknown_command_or_option_is_named_as_such(
    library: Environment, empty_dir: Path, word: str
) -> None:
    result = library.run("otel-ops", word, cwd=empty_dir)
    assert result.returncode == 2, result.stderr
    kind = "option" if word.startswith("-") else "command"
    assert result.stderr.startswith(f"otel-ops: no such {kind} '{word}'"), result.stderr
    assert "not installed" not in result.stderr


def test_the_library_knows_every_command_of_the_operations_layer() -> None:
    import typer.main

    from otel_ops.cli import app

    assert set(typer.main.get_command(app).commands) == {"run", *OPS_COMMANDS}


def test_command_lists_show_each_summary_on_one_line() -> None:
    from typer.testing import CliRunner

    from otel_ops.cli import app

    listed = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "250"})
    demo = next(line for line in listed.output.splitlines() if " demo " in line)
    assert "locally; send traffic; report what arrived where." in demo, listed.output
    assert "``" not in listed.output


def test_run_refuses_an_endpoint_that_is_not_a_url(library: Environment, empty_dir: Path) -> None:
    result = library.run(
        "otel-ops", "run", "--endpoint", "notaurl", "--", "python", "-c", "pass", cwd=empty_dir
    )
    assert result.returncode == 2
    assert "--endpoint 'notaurl' is not a URL: give it as http://host:port" in result.stderr
    port = library.run(
        "otel-ops", "run", "--endpoint", "http://localhost:99999", "--", "python", "-c", "pass", cwd=empty_dir
    )
    assert port.returncode == 2 and "invalid port" in port.stderr


def test_help_shows_run_and_how_to_get_the_other_commands(library: Environment, empty_dir: Path) -> None:
    result = library.run("otel-ops", "--help", cwd=empty_dir)
    assert result.returncode == 0, result.stderr
    assert "run" in result.stdout and OPS_INSTALL in result.stdout


@pytest.mark.parametrize("layer", ["library", "ops"])
def test_version_prints_the_installed_version(
    request: pytest.FixtureRequest, layer: str, empty_dir: Path
) -> None:
    environment: Environment = request.getfixturevalue(layer)
    result = environment.run("otel-ops", "--version", cwd=empty_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"otel-ops {otel_ops.__version__}\n"
    assert "--version" in environment.run("otel-ops", "--help", cwd=empty_dir).stdout
