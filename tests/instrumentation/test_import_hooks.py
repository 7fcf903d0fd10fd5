"""Post-import hooks: instrumentation runs when the program imports a library, never before."""

from __future__ import annotations

import importlib
import logging
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from otel_ops.instrumentation._import_hooks import pending, when_imported


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh importable package (unique name) whose import records itself."""
    name = f"hooked_{uuid.uuid4().hex[:8]}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("from . import part\nexecuted = True\n")
    (tmp_path / name / "part.py").write_text("value = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def test_hook_runs_once_after_the_module_finished_importing(package):
    seen: list[tuple[str, bool, int]] = []

    def hook(module: ModuleType) -> None:
        seen.append((module.__name__, getattr(module, "executed", False), module.part.value))

    when_imported(package, hook)
    assert package not in sys.modules and package in pending()
    module = importlib.import_module(package)
    assert seen == [(package, True, 42)]
    assert package not in pending()
    assert "exec_module" not in vars(module.__spec__.loader)  # the loader is left as it was
    importlib.reload(module)
    assert len(seen) == 1


def test_hook_for_an_imported_module_runs_at_once(package):
    importlib.import_module(package)
    seen: list[str] = []
    when_imported(package, lambda module: seen.append(module.__name__))
    assert seen == [package]


def test_a_failing_hook_is_logged_and_the_import_succeeds(package, caplog):
    def broken(module: ModuleType) -> None:
        raise RuntimeError("instrumentation bug")

    when_imported(package, broken)
    with caplog.at_level(logging.WARNING, logger="otel_ops"):
        module = importlib.import_module(package)
    assert module.executed is True
    assert any("instrumenting" in record.getMessage() for record in caplog.records)
