"""The configuration fragments: every combination validates and runs; mistakes fail with a clear message."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from otel_ops.cli.collector import app
from otel_ops.stack import collector_build
from tests.collector.processes import start_collector

BACKENDS = ("prometheus", "loki", "tempo", "jaeger", "victorialogs")
SUBSETS = [combo for size in range(len(BACKENDS) + 1) for combo in itertools.combinations(BACKENDS, size)]
# Running a Collector per subset adds nothing over validating it: run none, each alone, and all together.
RUN_SUBSETS = [(), *((backend,) for backend in BACKENDS), BACKENDS]


def _id(combo: tuple[str, ...]) -> str:
    return "+".join(("base", *combo))


@pytest.mark.parametrize("backends", SUBSETS, ids=_id)
def test_every_combination_of_backends_validates(collector_binary: Path, backends: tuple[str, ...]) -> None:
    configs = collector_build.fragments(backends)
    result = collector_build.validate(configs, binary=collector_binary)
    assert result.ok, result.output


@pytest.mark.parametrize("backends", RUN_SUBSETS, ids=_id)
def test_each_backend_runs_alone_and_with_the_others(
    collector_binary: Path, backends: tuple[str, ...], tmp_path: Path
) -> None:
    process, _ = start_collector(collector_binary, collector_build.fragments(backends), tmp_path)
    exit_code = process.stop()
    log = process.log.read_text()
    assert exit_code == 0, log
    # No fragment leaves a deprecated component name behind.
    assert "deprecated" not in log.lower(), log


def test_fragment_order_is_base_first_then_backends(config_dir: Path) -> None:
    assert collector_build.fragments(["tempo", "prometheus.yaml"]) == [
        config_dir / "base.yaml",
        config_dir / "prometheus.yaml",
        config_dir / "tempo.yaml",
    ]
    with pytest.raises(
        collector_build.CollectorBuildError, match=r"unknown backend 'elastic'.*jaeger, loki, prometheus"
    ):
        collector_build.fragments(["elastic"])
    from typer.testing import CliRunner

    from otel_ops.cli import app

    result = CliRunner().invoke(app, ["collector", "config", "--backend", "elastic"])
    assert result.exit_code == 2 and "unknown backend 'elastic'" in result.output  # a bad argument


def test_misspelled_key_fails_validation_naming_the_key(
    collector_binary: Path, config_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpont: localhost:4317\n")
    result = collector_build.validate([config_dir / "base.yaml", broken], binary=collector_binary)
    assert not result.ok
    assert "endpont" in result.output


def test_pipeline_with_undefined_exporter_fails_validation(
    collector_binary: Path, config_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("service:\n  pipelines:\n    logs/loki:\n      exporters: [otlp_http/elastic]\n")
    result = collector_build.validate([config_dir / "base.yaml", broken], binary=collector_binary)
    assert not result.ok
    assert "otlp_http/elastic" in result.output


def test_cli_validate_reports_valid_and_invalid_configs(collector_binary: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", "--backend", "prometheus"])
    assert ok.exit_code == 0, ok.output
    assert "valid:" in ok.output and "prometheus.yaml" in ok.output

    broken = tmp_path / "broken.yaml"
    broken.write_text("processors:\n  memory_limiter:\n    check_intervall: 1s\n")
    bad = runner.invoke(
        app, ["validate", "-c", str(collector_build.config_dir() / "base.yaml"), "-c", str(broken)]
    )
    assert bad.exit_code == 1
    assert "invalid configuration" in bad.output and "check_intervall" in bad.output

    missing = runner.invoke(app, ["validate", "-c", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1
    assert "config file not found" in missing.output


def _merged_config() -> dict[str, Any]:
    """Every fragment merged as the Collector merges them: maps key by key, anything else replaced."""

    def merge(into: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
        for key, value in update.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value
        return into

    merged: dict[str, Any] = {}
    for path in collector_build.fragments():
        merge(merged, yaml.safe_load(path.read_text()))
    return merged


def test_nothing_answers_a_client_before_its_data_is_on_disk() -> None:
    """What the Collector acknowledged survives ``kill -9`` only when no component holds it in memory in
    front of an exporter's files: no ``batch`` processor, every sending queue on ``file_storage``, and no
    in-memory queue in front of the remote-write WAL (tests/collector/test_crash.py shows the loss)."""
    config = _merged_config()
    in_memory = [
        f"{name}: {processors}"
        for name, pipeline in config["service"]["pipelines"].items()
        if (processors := [p for p in pipeline.get("processors", []) if p.split("/")[0] == "batch"])
    ]
    for name, exporter in config["exporters"].items():
        kind = name.split("/")[0]
        exporter = exporter or {}
        if kind == "prometheus_remote_write":
            assert exporter.get("wal"), f"{name} keeps no write-ahead log"
            if exporter.get("remote_write_queue", {}).get("enabled", True):
                in_memory.append(f"{name}: remote_write_queue in front of the WAL")
        elif kind != "nop":
            # An exporter that does not configure its sending queue gets the default one, in memory.
            queue = exporter.get("sending_queue", {})
            if queue.get("enabled", True) and not queue.get("storage"):
                in_memory.append(f"{name}: sending_queue without storage")
    assert not in_memory, in_memory
