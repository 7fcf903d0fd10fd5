"""Building and caching the Collector distribution."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from otel_ops.cli.collector import app
from otel_ops.stack import collector_build

EXPECTED_COMPONENTS = {
    "receivers": {"otlp"},
    "processors": {"memory_limiter", "resource", "redaction", "tail_sampling"},
    "connectors": {"forward", "span_metrics", "service_graph"},
    "exporters": {"otlp_grpc", "otlp_http", "prometheus_remote_write", "debug", "nop"},
    "extensions": {"health_check", "file_storage"},
}


def test_manifest_pins_one_version_everywhere() -> None:
    collector_dir = collector_build.collector_dir()
    version = (collector_dir / "VERSION").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    manifest = yaml.safe_load((collector_dir / "manifest.yaml").read_text())
    assert manifest["dist"]["version"] == version
    assert manifest["dist"]["name"] == "otelcol-otel-ops"
    gomods = [entry["gomod"] for kind in EXPECTED_COMPONENTS for entry in manifest[kind]]
    assert {gomod.split(" ")[1] for gomod in gomods} == {f"v{version}"}


def test_built_binary_has_exactly_the_configured_components(collector_binary: Path) -> None:
    result = subprocess.run(
        [str(collector_binary), "components"], capture_output=True, text=True, check=True, timeout=60
    )
    components = yaml.safe_load(result.stdout)
    assert components["buildinfo"]["version"] == collector_build.collector_version()
    found = {kind: {c["name"] for c in components.get(kind) or []} for kind in EXPECTED_COMPONENTS}
    assert found == EXPECTED_COMPONENTS


def test_cached_binary_is_reused(collector_binary: Path) -> None:
    before = collector_binary.stat().st_mtime_ns
    assert collector_build.binary_path() == collector_binary
    assert collector_build.ensure_collector() == collector_binary
    assert collector_binary.stat().st_mtime_ns == before
    assert collector_build.cache_dir() in collector_binary.parents

    result = CliRunner().invoke(app, ["path"])
    assert result.exit_code == 0
    assert result.stdout.strip() == str(collector_binary)


def test_cache_dir_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OTEL_OPS_CACHE_DIR", str(tmp_path))
    assert collector_build.cache_dir() == tmp_path
    assert collector_build.build_dir("abc") == tmp_path / "collector" / "abc"
    assert collector_build.binary_path() is None

    result = CliRunner().invoke(app, ["path"])
    assert result.exit_code == 1
    assert "otel-ops collector build" in result.output


def test_hash_changes_with_manifest_and_go_version(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(collector_build.manifest_path().read_text())
    first = collector_build.build_hash(manifest, go="go1.26.8")
    assert collector_build.build_hash(manifest, go="go1.26.8") == first
    assert collector_build.build_hash(manifest, go="go1.27.0") != first
    manifest.write_text(manifest.read_text() + "\n# changed\n")
    assert collector_build.build_hash(manifest, go="go1.26.8") != first


def test_missing_go_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OTEL_OPS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(collector_build.CollectorBuildError, match="Go is not installed or not on PATH"):
        collector_build.ensure_collector()

    result = CliRunner().invoke(app, ["build"])
    assert result.exit_code == 1
    assert "Go is not installed" in result.output


def test_failed_build_shows_log_tail_and_log_path(
    collector_binary: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Reuse the installed builder so only the build itself runs (and fails) here.
    version = collector_build.collector_version()
    builder_dir = Path("tools") / f"builder-v{version}"
    cache = tmp_path / "cache"
    (cache / builder_dir).mkdir(parents=True)
    os.symlink(collector_build.cache_dir() / builder_dir / "builder", cache / builder_dir / "builder")
    monkeypatch.setenv("OTEL_OPS_CACHE_DIR", str(cache))
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    monkeypatch.setenv("GOPROXY", "off")

    manifest = tmp_path / "manifest.yaml"
    spec = yaml.safe_load(collector_build.manifest_path().read_text())
    spec["receivers"].append({"gomod": "example.com/otel-ops/no-such-receiver v0.0.1"})
    manifest.write_text(yaml.safe_dump(spec))

    with pytest.raises(collector_build.CollectorBuildError) as failure:
        collector_build.ensure_collector(manifest=manifest)
    message = str(failure.value)
    assert "failed" in message
    assert "no-such-receiver" in message  # the tail of the build log says what went wrong
    log = Path(message.rsplit("Full log: ", 1)[1].strip())
    assert log.is_file() and "no-such-receiver" in log.read_text()
    # Nothing half-built is taken for a cached binary.
    assert not (log.parent / collector_build.DIST_NAME).exists()
