"""Loaded at interpreter start-up by ``otel-ops run``: configure otel-ops before the program runs.

Runs in every Python process the command starts (spawned workers included). Never breaks the host: any
failure is reported on stderr and the program runs uninstrumented.
"""

import os
import sys


def _chain_existing_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    module = sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401 - the environment's own, if any
    except ImportError:
        if module is not None:
            sys.modules["sitecustomize"] = module


def _start() -> None:
    if os.environ.get("OTEL_OPS_AUTO") != "1":
        return
    try:
        from otel_ops.instrumentation._auto.bootstrap import start

        start()
    except Exception as exc:  # pragma: no cover - reported, never raised
        print(f"otel-ops: instrumentation disabled: {type(exc).__name__}: {exc}", file=sys.stderr)


_chain_existing_sitecustomize()
_start()
