"""The way into a firing alert, looked up when its notification arrives: an exemplar trace id and the top
error fingerprint of its series (``otel-ops explain`` starts from either).

Prometheus is asked with a short timeout, in a worker thread; whatever goes wrong leaves the pointers out
(logged) and never fails or slows the webhook beyond the deadline.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from otel_ops.explain.model import rfc3339_seconds
from otel_ops.explain.pointers import alert_pointers

_logger = logging.getLogger("otel_ops.sidecar.alerts")

NO_POINTERS: dict[str, Any] = {"exemplar_trace_id": None, "top_error_fingerprint": None}


async def _one(prometheus_url: str, alert: dict[str, Any], timeout: float) -> dict[str, Any]:
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    try:
        return await asyncio.to_thread(
            alert_pointers, prometheus_url, labels, rfc3339_seconds(alert.get("startsAt")), timeout=timeout
        )
    except Exception as exc:  # a lookup must never fail the notification
        _logger.warning("no exemplar or error fingerprint for alert %s: %s", labels.get("alertname"), exc)
        return dict(NO_POINTERS)


async def lookup(prometheus_url: str, alerts: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    """Pointers for each alert of a notification (none for resolved ones), within about ``timeout`` s."""
    firing = [i for i, alert in enumerate(alerts) if alert.get("status", "firing") == "firing"]
    found = [dict(NO_POINTERS) for _ in alerts]
    if not firing:
        return found
    lookups = asyncio.gather(*(_one(prometheus_url, alerts[i], timeout) for i in firing))
    try:
        results = await asyncio.wait_for(lookups, timeout=timeout + 1.0)
    except TimeoutError:
        _logger.warning("Prometheus at %s was too slow: alerts recorded without pointers", prometheus_url)
        return found
    for index, pointers in zip(firing, results, strict=True):
        found[index] = pointers
    return found
