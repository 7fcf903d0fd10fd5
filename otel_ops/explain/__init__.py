"""``otel-ops explain``: from an alert, a trace id or an error fingerprint to the traces, logs and errors
behind it, read from the stores (Prometheus and Alertmanager; Jaeger or Tempo; VictoriaLogs or Loki).

For programs::

    from otel_ops.explain import Stores, StoreUrls, explain_trace, render

    with Stores.connect(StoreUrls.local(jaeger=..., victorialogs=..., prometheus=...)) as stores:
        explanation = explain_trace(trace_id, stores)
    render(explanation, console)        # or explanation.to_dict() for JSON

Part of the ops layer: the instrumentation never imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from otel_ops.explain.errors import ExplainError, InvalidArgument, NotFound, StoreUnavailable
from otel_ops.explain.model import Explanation, Window
from otel_ops.explain.render import render
from otel_ops.explain.settings import StoreUrls, resolve

if TYPE_CHECKING:
    from otel_ops.explain.explainer import Stores, explain_alert, explain_fingerprint, explain_trace
    from otel_ops.explain.pointers import alert_pointers

__all__ = [
    "ExplainError",
    "Explanation",
    "InvalidArgument",
    "NotFound",
    "StoreUnavailable",
    "StoreUrls",
    "Stores",
    "Window",
    "alert_pointers",
    "explain_alert",
    "explain_fingerprint",
    "explain_trace",
    "render",
    "resolve",
]

# The store clients (and httpx) load on first use of these names, so the command line parses its options
# without them.
_LAZY: dict[str, str] = {
    "Stores": "explainer",
    "explain_alert": "explainer",
    "explain_fingerprint": "explainer",
    "explain_trace": "explainer",
    "alert_pointers": "pointers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
