"""A wheel built from a source tree, installed into fresh virtual environments: what ``pip install``
gives a user. Used by the packaging tests and the install footprint benchmark.

Environments are created without pip of their own (pip installs into them with ``--python``), so their
site-packages hold exactly what otel-ops brings. pip's cache is shared with the rest of the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_INSTALL_TIMEOUT_S = 900


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def copy_source_tree(repo: Path, target: Path) -> Path:
    """The files of the checkout ``repo`` that git knows (tracked, or new and not ignored) copied to
    ``target``, links kept as links: what a clean clone holds, without local build output or secrets."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        capture_output=True,
        check=True,
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        source, copy = repo / name, target / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            copy.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, copy)
    return target


def build_wheel(source: Path, out_dir: Path) -> Path:
    """The wheel of the project in ``source`` (built as pip builds it), in ``out_dir``."""
    _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(out_dir), str(source))
    [wheel] = out_dir.glob("otel_ops-*.whl")
    return wheel


@dataclass(frozen=True)
class Environment:
    """A virtual environment and how to run its commands as a user would (no checkout on the path)."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("OTEL_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        }
        path = os.pathsep.join([str(self.bin), inherited.get("PATH", "")])
        return {**inherited, "PATH": path, "VIRTUAL_ENV": str(self.root), "COLUMNS": "250", **(extra or {})}

    def run(
        self, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        """Run the environment's command ``args[0]`` (e.g. ``otel-ops``) with ``args[1:]`` in ``cwd``."""
        command = [str(self.bin / args[0]), *args[1:]]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=self.env(env), cwd=cwd
        )

    def python_json(self, code: str, cwd: Path, env: dict[str, str] | None = None) -> object:
        """Run ``code`` with the environment's Python; it prints one JSON document as its last line."""
        result = self.run("python", "-c", code, cwd=cwd, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"python failed:\n{result.stdout}\n{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def site_packages(self) -> Path:
        code = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()['purelib']))"
        return Path(str(self.python_json(code, cwd=self.root)))

    def distributions(self) -> set[str]:
        """Names of the installed distributions, normalised (lower case, ``-`` for ``_`` and ``.``)."""
        code = (
            "import json, re, importlib.metadata as m; "
            "print(json.dumps(sorted({re.sub(r'[-_.]+', '-', d.metadata['Name']).lower() "
            "for d in m.distributions()})))"
        )
        names = self.python_json(code, cwd=self.root)
        assert isinstance(names, list)
        return set(names)


def create_environment(root: Path, *requirements: str) -> Environment:
    """A fresh virtual environment in ``root`` with ``requirements`` (e.g. ``path/to.whl[ops]``) installed."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    environment = Environment(root)
    _pip("--python", str(environment.python), "install", "--quiet", *requirements)
    return environment
