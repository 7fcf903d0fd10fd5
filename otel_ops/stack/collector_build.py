"""Build the otel-ops Collector distribution with the Collector Builder and cache the binary.

The binary is built from ``collector/manifest.yaml`` of the stack files (:mod:`otel_ops.stack.files`: the
ones shipped with otel-ops, or the user's copy in ``--config-dir``) into a cache directory,
``$OTEL_OPS_CACHE_DIR/collector/<hash>/otelcol-otel-ops`` (default cache dir ``~/.cache/otel-ops``). The hash
covers the manifest and the Go version, so editing the manifest or upgrading Go builds a new binary and an
unchanged setup reuses the cached one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console

from otel_ops.stack.gobuild import (
    BuildError,
    UnknownName,
    build_lock,
    cache_dir,
    executable,
    go_executable,
    go_version,
    run_logged,
)

__all__ = ["CollectorBuildError", "cache_dir", "go_executable", "go_version"]

from otel_ops.stack import files

DIST_NAME = "otelcol-otel-ops"
BUILDER_MODULE = "go.opentelemetry.io/collector/cmd/builder"
# Bumped when the way this module builds changes, so old cache entries are not reused.
_BUILD_RECIPE = "1"

# Fragments in collector/config/: the base always comes first, backends in this order after it.
BASE_FRAGMENT = "base.yaml"
BACKEND_FRAGMENTS = ("prometheus.yaml", "loki.yaml", "tempo.yaml", "jaeger.yaml", "victorialogs.yaml")


#: The Collector could not be built (or its configuration found); the message says why and what to do.
CollectorBuildError = BuildError


@dataclass(frozen=True)
class ValidationResult:
    ok: bool
    configs: tuple[Path, ...]
    output: str


def _stack_file(*parts: str) -> Path:
    try:
        return files.path(*parts)
    except files.StackFileMissing as exc:
        raise CollectorBuildError(str(exc)) from None


def collector_dir() -> Path:
    """``collector/`` of the stack files in use."""
    return _stack_file("collector")


def manifest_path() -> Path:
    return _stack_file("collector", "manifest.yaml")


def config_dir() -> Path:
    return _stack_file("collector", "config")


def collector_version(manifest: Path | None = None) -> str:
    """The Collector release the manifest pins (``dist.version``), e.g. ``0.158.0``."""
    data = yaml.safe_load((manifest or manifest_path()).read_text())
    try:
        version = str(data["dist"]["version"])
    except (TypeError, KeyError) as exc:
        raise CollectorBuildError(f"{manifest or manifest_path()}: dist.version is missing") from exc
    return version.removeprefix("v")


def build_hash(manifest: Path | None = None, go: str | None = None) -> str:
    """Identifies one build: the manifest's bytes, the Go version and this module's build recipe."""
    digest = hashlib.sha256()
    digest.update((manifest or manifest_path()).read_bytes())
    digest.update(b"\0" + (go or go_version()).encode())
    digest.update(b"\0" + _BUILD_RECIPE.encode())
    return digest.hexdigest()[:16]


def build_dir(hash_: str | None = None) -> Path:
    return cache_dir() / "collector" / (hash_ or build_hash())


def binary_path() -> Path | None:
    """The cached binary for the current manifest and Go version, or None when it is not built yet."""
    return executable(build_dir() / DIST_NAME)


def ensure_collector(
    force: bool = False, console: Console | None = None, manifest: Path | None = None
) -> Path:
    """Return the Collector binary, building it first when it is not cached (or when ``force``).

    ``manifest`` defaults to ``collector/manifest.yaml`` of the stack files in use.
    """
    console = console or Console(stderr=True)
    manifest = manifest or manifest_path()
    target_dir = build_dir(build_hash(manifest))
    binary = target_dir / DIST_NAME
    with build_lock(target_dir, console, "the Collector"):
        if binary.is_file() and not force:
            return binary
        builder = _ensure_builder(collector_version(manifest), console)
        _run_build(builder, manifest, target_dir, console)
    return binary


def fragments(backends: Sequence[str] | None = None) -> list[Path]:
    """Config files in load order: base, then the named backends (all of them when None).

    ``backends`` are names like ``prometheus`` or file names like ``prometheus.yaml``.
    """
    if backends is None:
        names = list(BACKEND_FRAGMENTS)
    else:
        known = {Path(name).stem: name for name in BACKEND_FRAGMENTS}
        names = []
        for backend in backends:
            stem = Path(backend).stem
            if stem not in known:
                raise UnknownName(f"unknown backend {backend!r}: choose from {', '.join(sorted(known))}")
            names.append(known[stem])
        names = [name for name in BACKEND_FRAGMENTS if name in names]
    return [_stack_file("collector", "config", name) for name in (BASE_FRAGMENT, *names)]


def config_args(configs: Sequence[Path]) -> list[str]:
    return [f"--config={path}" for path in configs]


def validate(
    configs: Sequence[Path], binary: Path | None = None, env: dict[str, str] | None = None
) -> ValidationResult:
    """Dry-run the merged configuration with ``otelcol-otel-ops validate``."""
    missing = [str(path) for path in configs if not Path(path).is_file()]
    if missing:
        raise CollectorBuildError(f"config file not found: {', '.join(missing)}")
    binary = binary or ensure_collector()
    result = subprocess.run(
        [str(binary), "validate", *config_args(configs)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    output = (result.stdout + result.stderr).strip()
    return ValidationResult(ok=result.returncode == 0, configs=tuple(Path(p) for p in configs), output=output)


def _ensure_builder(version: str, console: Console) -> Path:
    """The Collector Builder at the manifest's version, installed with ``go install`` into the cache."""
    bin_dir = cache_dir() / "tools" / f"builder-v{version}"
    builder = bin_dir / "builder"
    if builder.is_file():
        return builder
    bin_dir.mkdir(parents=True, exist_ok=True)
    log = bin_dir / "install.log"
    command = [go_executable(), "install", f"{BUILDER_MODULE}@v{version}"]
    run_logged(command, log, f"Installing the Collector Builder v{version}", console, {"GOBIN": str(bin_dir)})
    if not builder.is_file():
        raise CollectorBuildError(f"`go install` finished but {builder} is missing; full log: {log}")
    return builder


def _run_build(builder: Path, manifest: Path, target_dir: Path, console: Console) -> None:
    source_dir = target_dir / "src"
    if source_dir.exists():
        shutil.rmtree(source_dir)
    spec = yaml.safe_load(manifest.read_text())
    spec["dist"]["output_path"] = str(source_dir)
    build_manifest = target_dir / "manifest.yaml"
    build_manifest.write_text(yaml.safe_dump(spec, sort_keys=False))
    log = target_dir / "build.log"
    started = time.monotonic()
    run_logged(
        [str(builder), f"--config={build_manifest}"],
        log,
        f"Building {DIST_NAME} {spec['dist']['version']}",
        console,
    )
    built = source_dir / DIST_NAME
    if not built.is_file():
        raise CollectorBuildError(f"the builder finished but produced no {built}; full log: {log}")
    # Rename into place last, so an interrupted build never looks like a cached binary.
    os.replace(built, target_dir / DIST_NAME)
    shutil.rmtree(source_dir, ignore_errors=True)
    console.print(f"Built {target_dir / DIST_NAME} in {time.monotonic() - started:.0f} s (log: {log})")
