"""A wheel of this checkout, installed into fresh virtual environments outside the checkout.

One wheel and two environments per test session: the library alone (``pip install otel-ops``) and with the
operations layer (``pip install 'otel-ops[ops]'``). pip's own cache is used, so after the first session
nothing is downloaded again.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.environments import Environment, build_wheel, copy_source_tree, create_environment

REPO = Path(__file__).resolve().parents[2]
#: A file the checkout does not have: it ships because whole directories do.
PROBE_FILE = "collector/config/packaging-probe.yaml"
#: Local secrets a developer may have in a checkout: they must never ship.
PROBE_SECRETS = {
    "compose/secrets/sidecar_token": "planted-secret-token\n",
    "compose/.env": "PLANTED_SECRET=1\n",
}


def require(condition: bool, reason: str) -> None:
    """Skip without ``condition``; in CI (``CI=true``) a missing component fails instead."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def source_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files of this checkout git knows about (links kept as links), plus a collector fragment the
    checkout does not have and local secrets that must never ship."""
    require(shutil.which("git") is not None, "needs git to list the checkout's files")
    tree = copy_source_tree(REPO, tmp_path_factory.mktemp("source") / "otel-ops")
    (tree / PROBE_FILE).write_text("# A fragment added after the packaging was written.\n")
    for name, text in PROBE_SECRETS.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    return tree


@pytest.fixture(scope="session")
def wheel(source_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(source_tree, tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def library(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Environment:
    """``pip install otel-ops``."""
    return create_environment(tmp_path_factory.mktemp("library") / "venv", str(wheel))


@pytest.fixture(scope="session")
def ops(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Environment:
    """``pip install 'otel-ops[ops]'``."""
    return create_environment(tmp_path_factory.mktemp("ops") / "venv", f"{wheel}[ops]")


@pytest.fixture
def empty_dir(tmp_path: Path) -> Iterator[Path]:
    """An empty working directory outside the checkout."""
    directory = tmp_path / "work"
    directory.mkdir()
    assert REPO not in directory.parents
    yield directory
