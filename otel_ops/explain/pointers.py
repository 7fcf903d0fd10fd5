"""The way into an alert, for its notification: an exemplar trace id and the top error fingerprint.

The sidecar's webhook records them with each firing alert (looked up with a short timeout; a failure
leaves them out and never fails the webhook).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from otel_ops import _http as http_clients
from otel_ops.explain.explainer import ALERT_LOOKBACK_S, alert_matchers, choose_exemplars
from otel_ops.explain.model import Window
from otel_ops.explain.stores import PrometheusStore


def alert_pointers(
    prometheus_url: str,
    labels: Mapping[str, str],
    starts_at: float | None,
    *,
    timeout: float = 2.0,
    lookback_seconds: float = ALERT_LOOKBACK_S,
    now: float | None = None,
) -> dict[str, Any]:
    """``exemplar_trace_id`` and ``top_error_fingerprint`` of the alert's series in its window (None when
    Prometheus has neither). Raises StoreUnavailable when Prometheus cannot answer."""
    now = time.time() if now is None else now
    window = Window(min(starts_at or now, now) - lookback_seconds, now)
    matchers = alert_matchers(labels)
    with http_clients.client(timeout=timeout) as http:
        prometheus = PrometheusStore(prometheus_url, http)
        exemplars = choose_exemplars(prometheus.exemplars(matchers, window), labels, per_kind=1)
        errors = prometheus.error_groups(matchers, window)
    return {
        "exemplar_trace_id": exemplars[0].trace_id if exemplars else None,
        "top_error_fingerprint": errors[0].fingerprint if errors else None,
    }
