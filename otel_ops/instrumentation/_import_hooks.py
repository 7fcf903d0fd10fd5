"""Run a function when a module is first imported, so start-up imports nothing the program has not imported.

``when_imported("fastapi", instrument)`` calls ``instrument(module)`` right after ``fastapi`` finishes
importing (at once if it already has). The hook wraps the ``exec_module`` of the loader instance found for
that one module until it has run; everything else about the import (finders, loaders, ``module.__spec__``)
is untouched.
A failing hook is logged and never breaks the program's import.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

_logger = logging.getLogger("otel_ops")
Hook = Callable[[ModuleType], object]


def _run(hooks: Sequence[Hook], module: ModuleType) -> None:
    for hook in hooks:
        try:
            hook(module)
        except Exception:
            _logger.warning("otel-ops: instrumenting %s failed", module.__name__, exc_info=True)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: finds nothing itself; adds hooks to the specs other finders return."""

    def __init__(self) -> None:
        self.hooks: dict[str, list[Hook]] = {}
        self._lock = threading.Lock()
        self._searching: set[str] = set()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.hooks:
            return None
        with self._lock:
            if fullname in self._searching:
                return None
            self._searching.add(fullname)
        try:
            spec = self._find_with_others(fullname, path, target)
        finally:
            with self._lock:
                self._searching.discard(fullname)
        loader = spec.loader if spec is not None else None
        if loader is None or isinstance(loader, type) or not hasattr(loader, "exec_module"):
            return spec  # class-level loaders (builtins, frozen) are shared: leave them alone
        exec_module = loader.exec_module
        hooks = self.hooks.pop(fullname, None)
        if hooks is None:  # another thread's import of the same module took them
            return spec

        def exec_then_hook(module: ModuleType) -> None:
            if module.__name__ != fullname:  # a loader shared by several modules (a zip archive)
                exec_module(module)
                return
            if getattr(loader, "__dict__", {}).get("exec_module") is exec_then_hook:
                del loader.exec_module  # the loader is back to what it was
            try:
                exec_module(module)
            except BaseException:
                self.hooks.setdefault(fullname, []).extend(hooks)  # a later import attempt runs them
                raise
            _run(hooks, module)

        try:
            loader.exec_module = exec_then_hook  # type: ignore[method-assign]
        except AttributeError:  # a loader with fixed attributes
            _logger.debug("otel-ops: cannot watch the import of %s; it stays uninstrumented", fullname)
        return spec

    def _find_with_others(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None
    ) -> importlib.machinery.ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec: Any = find(fullname, path, target)
            if spec is not None:
                return spec
        return None


_finder = _PostImportFinder()
_install_lock = threading.Lock()


def when_imported(name: str, hook: Hook) -> None:
    """Call ``hook(module)`` once ``name`` is imported: now if it already is, else right after its import."""
    with _install_lock:
        module = sys.modules.get(name)
        if module is None:
            _finder.hooks.setdefault(name, []).append(hook)
            if _finder not in sys.meta_path:
                sys.meta_path.insert(0, _finder)
            return
    _run([hook], module)


def pending() -> tuple[str, ...]:
    """Modules with hooks still waiting for their import."""
    return tuple(_finder.hooks)
