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

from typing import TYPE_CHECKING

from otel_ops._lazy import lazy_names
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
    "Stores": f"{__name__}.explainer",
    "explain_alert": f"{__name__}.explainer",
    "explain_fingerprint": f"{__name__}.explainer",
    "explain_trace": f"{__name__}.explainer",
    "alert_pointers": f"{__name__}.pointers",
}


__getattr__, __dir__ = lazy_names(__name__, globals(), _LAZY)
