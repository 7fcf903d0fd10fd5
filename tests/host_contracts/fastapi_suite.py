"""FastAPI's own test suite, for the FastAPI version installed here, in a virtualenv of its own.

FastAPI's sdist carries ``tests/`` and ``docs_src/``; its test dependencies are the ``tests`` dependency
group of its pyproject. The sdist's ``fastapi/`` folder is removed so the tests exercise the installed
package. Everything is cached per FastAPI and Python version under ``~/.cache/otel-ops/host-tests/``
(``OTEL_OPS_HOST_TESTS_CACHE`` overrides), with otel-ops installed into the virtualenv again whenever its
sources change, so re-runs only run the tests.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class SetupError(RuntimeError):
    """The suite could not be prepared (no sdist, a dependency that does not install, ...)."""


@dataclass(frozen=True)
class Outcome:
    outcome: str  # passed, failed, error, skipped
    message: str


def cache_root() -> Path:
    configured = os.environ.get("OTEL_OPS_HOST_TESTS_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "otel-ops" / "host-tests"


def _run(args: list[str], cwd: Path | None = None, timeout: float = 900) -> None:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise SetupError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([REPO / "pyproject.toml", *(REPO / "otel_ops").rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class FastAPISuite:
    """The installed FastAPI version's test suite, ready to run with ``python -m pytest``."""

    fastapi_version: str
    home: Path

    @classmethod
    def for_installed_fastapi(cls) -> FastAPISuite:
        fastapi_version = version("fastapi")
        python = f"py{sys.version_info.major}.{sys.version_info.minor}"
        return cls(fastapi_version, cache_root() / f"fastapi-{fastapi_version}-{python}")

    @property
    def source(self) -> Path:
        return self.home / f"fastapi-{self.fastapi_version}"

    @property
    def python(self) -> Path:
        return self.home / "venv" / "bin" / "python"

    @property
    def otel_ops(self) -> Path:
        return self.home / "venv" / "bin" / "otel-ops"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One preparation or run at a time per cached suite (several checkouts may share the cache)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def prepare(self) -> None:
        """Download the sdist, build the virtualenv, install otel-ops from this checkout (if changed)."""
        ready = self.home / "venv" / ".ready"
        if not ready.exists():
            self._download_sdist()
            self._create_venv()
            ready.write_text("ok")
            (self.home / "baseline.json").unlink(missing_ok=True)
        marker = self.home / "venv" / ".otel-ops-sources"
        digest = _sources_digest()
        if not marker.exists() or marker.read_text() != digest:
            pip = [str(self.python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            _run([*pip, "--no-deps", "--force-reinstall", str(REPO)])
            _run([*pip, f"fastapi=={self.fastapi_version}", str(REPO)])  # otel-ops' own dependencies
            marker.write_text(digest)

    def _download_sdist(self) -> None:
        download = self.home / "download"
        shutil.rmtree(download, ignore_errors=True)
        shutil.rmtree(self.source, ignore_errors=True)
        download.mkdir(parents=True)
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"fastapi=={self.fastapi_version}",
                "-d",
                str(download),
            ]
        )
        archives = list(download.glob("fastapi-*.tar.gz"))
        if len(archives) != 1:
            raise SetupError(f"expected one FastAPI sdist in {download}, found {archives}")
        with tarfile.open(archives[0]) as archive:
            if hasattr(tarfile, "data_filter"):
                archive.extractall(self.home, filter="data")
            else:  # Python before 3.11.4
                archive.extractall(self.home)
        if not (self.source / "tests").is_dir():
            raise SetupError(f"the FastAPI {self.fastapi_version} sdist has no tests/ folder")
        shutil.rmtree(self.source / "fastapi")  # test the installed package, not the sdist's copy
        shutil.rmtree(download)

    def _create_venv(self) -> None:
        venv = self.home / "venv"
        shutil.rmtree(venv, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(venv)])
        pip = [str(self.python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        _run([*pip, "--upgrade", "pip>=25.1"])  # dependency groups
        _run(
            [
                *pip,
                "--group",
                f"{self.source / 'pyproject.toml'}:tests",
                f"fastapi=={self.fastapi_version}",
                str(REPO),
            ]
        )

    def run(
        self, test_paths: list[str], env: dict[str, str], report: Path, under_otel_ops: bool
    ) -> tuple[dict[str, Outcome], subprocess.CompletedProcess[str]]:
        """Run ``pytest`` on ``test_paths`` (relative to the sdist), plainly or under ``otel-ops run``."""
        command = [str(self.python), "-m", "pytest", *test_paths, "-p", "no:cacheprovider", "-q"]
        command += ["--junitxml", str(report)]
        if under_otel_ops:
            command = [str(self.otel_ops), "run", "--", *command]
        result = subprocess.run(
            command, cwd=self.source, env=env, capture_output=True, text=True, timeout=900
        )
        if not report.exists():
            raise AssertionError(
                f"pytest wrote no report (exit {result.returncode}):\n{result.stdout[-5000:]}\n"
                f"{result.stderr[-5000:]}"
            )
        return read_junit(report), result

    def baseline(self, test_paths: list[str], env: dict[str, str]) -> dict[str, Outcome]:
        """Outcomes without otel-ops (cached: they depend only on FastAPI and its test dependencies)."""
        cached = self.home / "baseline.json"
        key = " ".join(test_paths)
        stored = json.loads(cached.read_text()) if cached.exists() else {}
        if key not in stored:
            outcomes, result = self.run(test_paths, env, self.home / "baseline.xml", under_otel_ops=False)
            if not outcomes:
                raise AssertionError(f"no tests ran without otel-ops:\n{result.stdout[-5000:]}")
            stored[key] = {name: [o.outcome, o.message] for name, o in outcomes.items()}
            cached.write_text(json.dumps(stored, indent=1, sort_keys=True))
        return {name: Outcome(*value) for name, value in stored[key].items()}


def read_junit(report: Path) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                message = (child.get("message") or "")[:500]
                break
        outcomes[name] = Outcome(outcome, message)
    return outcomes
