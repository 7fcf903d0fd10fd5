"""Build the native stack's trace and log stores (Jaeger v2, VictoriaLogs) from Go modules, cached by version.

Each program is built inside a scratch module that requires it as a tool (``go get -tool``), carrying the
program's own ``replace`` directives (``go install pkg@version`` refuses modules that have them, as Jaeger's
has). The binary goes to ``$OTEL_OPS_CACHE_DIR/<name>/<version>-<hash>/<name>``; the hash covers the Go
version and this module's build recipe, so a new Go or a new recipe builds anew and anything else reuses the
cached binary.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

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

# Bumped when the way this module builds changes, so old cache entries are not reused.
_BUILD_RECIPE = "1"


@dataclass(frozen=True)
class GoProgram:
    """A program built from a Go module at a pinned version."""

    name: str  # cache directory and binary name
    title: str
    module: str  # the module that holds the program (its go.mod's replace directives are carried)
    package: str  # the program's main package
    version: str

    @property
    def requirement(self) -> str:
        return f"{self.package}@{self.version}"


#: The trace store: Jaeger v2 (Apache-2.0). Its web UI is not part of the Go module (``/`` is a placeholder).
JAEGER = GoProgram(
    name="jaeger",
    title="Jaeger",
    module="github.com/jaegertracing/jaeger",
    package="github.com/jaegertracing/jaeger/cmd/jaeger",
    version="v1.75.0",
)
#: The log store: VictoriaLogs (Apache-2.0), with its web UI (vmui) at ``/select/vmui/``.
VICTORIALOGS = GoProgram(
    name="victorialogs",
    title="VictoriaLogs",
    module="github.com/VictoriaMetrics/VictoriaLogs",
    package="github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs",
    version="v1.52.2",
)
PROGRAMS: dict[str, GoProgram] = {program.name: program for program in (JAEGER, VICTORIALOGS)}


def program(name: str) -> GoProgram:
    try:
        return PROGRAMS[name]
    except KeyError:
        raise UnknownName(f"unknown store {name!r}: choose from {', '.join(PROGRAMS)}") from None


def build_hash(spec: GoProgram, go: str | None = None) -> str:
    """Identifies one build of ``spec``: its version, the Go version and this module's build recipe."""
    digest = hashlib.sha256()
    for part in (spec.requirement, go or go_version(), _BUILD_RECIPE):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:12]


def build_dir(spec: GoProgram, hash_: str | None = None) -> Path:
    return cache_dir() / spec.name / f"{spec.version}-{hash_ or build_hash(spec)}"


def binary_path(name: str) -> Path | None:
    """The cached binary of store ``name`` for the current Go version, or None when not built yet."""
    spec = program(name)
    return executable(build_dir(spec) / spec.name)


def ensure_store(name: str, force: bool = False, console: Console | None = None) -> Path:
    """Return the binary of store ``name`` (``jaeger`` or ``victorialogs``), building it first when needed."""
    spec = program(name)
    console = console or Console(stderr=True)
    target_dir = build_dir(spec)
    binary = target_dir / spec.name
    with build_lock(target_dir, console, spec.title):
        if executable(binary) and not force:
            return binary
        _build(spec, target_dir, console)
    return binary


def _build(spec: GoProgram, target_dir: Path, console: Console) -> None:
    go = go_executable()
    source = target_dir / "src"
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    log = target_dir / "build.log"
    log.write_text("")
    description = f"Building {spec.title} {spec.version}"
    started = time.monotonic()

    def step(*command: str) -> None:
        run_logged([go, *command], log, description, console, cwd=source, append=True)

    step("mod", "init", f"otel-ops.local/{spec.name}-build")
    for old, new in _replacements(go, spec, source):
        step("mod", "edit", f"-replace={old}={new}")
    step("get", "-tool", spec.requirement)
    built = source / spec.name
    step("build", "-o", str(built), spec.package)
    if not executable(built):
        raise BuildError(f"`go build` finished but produced no {built}; full log: {log}")
    # Rename into place last, so an interrupted build never looks like a cached binary.
    os.replace(built, target_dir / spec.name)
    shutil.rmtree(source, ignore_errors=True)
    console.print(f"Built {target_dir / spec.name} in {time.monotonic() - started:.0f} s (log: {log})")


def _replacements(go: str, spec: GoProgram, cwd: Path) -> list[tuple[str, str]]:
    """The module-to-module ``replace`` directives of the program's own go.mod, as ``old``/``new@version``."""
    download = subprocess.run(
        [go, "mod", "download", "-json", f"{spec.module}@{spec.version}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    try:
        info = json.loads(download.stdout)
    except json.JSONDecodeError:
        info = {}
    if download.returncode != 0 or not info.get("GoMod"):
        detail = info.get("Error") or download.stderr.strip() or "no output"
        raise BuildError(f"cannot download {spec.module}@{spec.version} from the Go module proxy: {detail}")
    edit = subprocess.run(
        [go, "mod", "edit", "-json", info["GoMod"]], capture_output=True, text=True, check=False, cwd=cwd
    )
    if edit.returncode != 0:
        raise BuildError(f"cannot read {info['GoMod']}: {edit.stderr.strip()}")
    replaced = []
    for replace in json.loads(edit.stdout).get("Replace") or []:
        old, new = replace["Old"], replace["New"]
        if not new.get("Version"):  # a local directory: nothing to carry outside that repository
            continue
        old_text = old["Path"] + (f"@{old['Version']}" if old.get("Version") else "")
        replaced.append((old_text, f"{new['Path']}@{new['Version']}"))
    return replaced
