"""The way into a firing alert, looked up when its notification arrives: an exemplar trace id and the top
error fingerprint of its series (``otel-ops explain`` starts from either).

Prometheus is asked with a short timeout, in a worker thread; whatever goes wrong leaves the pointers out
(logged) and never fails or slows the webhook beyond the deadline.  A notification of a large group (one
alert per pod of a failing deployment) gets pointers for its first :data:`MAX_LOOKUPS` firing alerts, at
most :data:`MAX_CONCURRENT_LOOKUPS` at a time, so one webhook does not flood Prometheus or take every
worker thread; the others are recorded without pointers (``otel-ops explain`` finds them from the alert).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from otel_ops.explain.model import rfc3339_seconds
from otel_ops.explain.pointers import alert_pointers

_logger = logging.getLogger("otel_ops.sidecar.alerts")

NO_POINTERS: dict[str, Any] = {"exemplar_trace_id": None, "top_error_fingerprint": None}
MAX_LOOKUPS = 20
MAX_CONCURRENT_LOOKUPS = 4


async def _one(
    prometheus_url: str, alert: dict[str, Any], timeout: float, slots: asyncio.Semaphore
) -> dict[str, Any]:
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    try:
        async with slots:
            return await asyncio.to_thread(
                alert_pointers,
                prometheus_url,
                labels,
                rfc3339_seconds(alert.get("startsAt")),
                timeout=timeout,
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
    if len(firing) > MAX_LOOKUPS:
        _logger.info(
            "%d firing alerts in one notification: pointers looked up for the first %d",
            len(firing),
            MAX_LOOKUPS,
        )
        firing = firing[:MAX_LOOKUPS]
    slots = asyncio.Semaphore(MAX_CONCURRENT_LOOKUPS)
    tasks = {
        index: asyncio.ensure_future(_one(prometheus_url, alerts[index], timeout, slots)) for index in firing
    }
    _, pending = await asyncio.wait(tasks.values(), timeout=timeout + 1.0)
    for task in pending:
        task.cancel()
    if pending:
        _logger.warning(
            "Prometheus at %s was too slow: %d of %d alerts recorded without pointers",
            prometheus_url,
            len(pending),
            len(tasks),
        )
    for index, task in tasks.items():
        if task not in pending:
            found[index] = task.result()
    return found
