"""Runs the health checks concurrently, each with a timeout, caches results, exports and announces them."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from otel_ops.sidecar.events import EventBus
from otel_ops.sidecar.health.model import Check, CheckResult, Outcome, Status, overall
from otel_ops.sidecar.metrics import SidecarMetrics
from otel_ops.sidecar.redact import scrubbed

_logger = logging.getLogger("otel_ops.sidecar.health")


class HealthService:
    def __init__(
        self,
        checks: Sequence[Check],
        *,
        timeout: float,
        cache_ttl: float,
        metrics: SidecarMetrics,
        events: EventBus,
    ) -> None:
        self.checks = list(checks)
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self.metrics = metrics
        self.events = events
        self._results: dict[str, CheckResult] = {}
        self._lock = asyncio.Lock()

    async def _run_one(self, check: Check) -> CheckResult:
        try:
            outcome = await asyncio.wait_for(check.run(), self.timeout)
        except TimeoutError:
            outcome = Outcome(Status.FAIL, output=f"timed out after {self.timeout:g}s")
        except Exception as exc:  # a broken check is one failed entry, never an error response
            outcome = Outcome(Status.FAIL, output=f"check raised {type(exc).__name__}: {exc}"[:500])
        if outcome.output:  # URLs with passwords or tokens, DSNs in driver errors: never shown
            outcome = replace(outcome, output=scrubbed(outcome.output))
        return CheckResult(check, outcome, dt.datetime.now(dt.UTC), time.monotonic())

    async def results(self, *, critical_only: bool = False, force: bool = False) -> list[CheckResult]:
        """Current results; checks older than the cache TTL (or all, with ``force``) run again, together."""
        wanted = [c for c in self.checks if c.critical or not critical_only]
        async with self._lock:
            now = time.monotonic()
            stale = [
                c
                for c in wanted
                if force
                or c.ident not in self._results
                or now - self._results[c.ident].monotonic >= self.cache_ttl
            ]
            if stale:
                fresh = await asyncio.gather(*(self._run_one(c) for c in stale))
                for result in fresh:
                    self._store(result)
            return [self._results[c.ident] for c in wanted]

    def _store(self, result: CheckResult) -> None:
        check = result.check
        previous = self._results.get(check.ident)
        self._results[check.ident] = result
        self.metrics.health_check_status.labels(check=check.key, component_id=check.component_id).set(
            result.status.metric_value
        )
        if previous is not None and previous.status is result.status:
            return
        if previous is not None or result.status is not Status.PASS:
            _logger.info(
                "health check %s (%s) is %s%s",
                check.key,
                check.component_id,
                result.status.value,
                f": {result.outcome.output}" if result.outcome.output else "",
            )
        self.events.publish(
            "health",
            {
                "check": check.key,
                "componentId": check.component_id,
                "status": result.status.value,
                "previous": previous.status.value if previous is not None else None,
                "output": result.outcome.output,
                "time": result.time.isoformat(),
            },
        )

    async def run_forever(self, interval: float) -> None:
        """Background refresh so metrics and events follow dependencies without requests."""
        while True:
            try:
                results = await self.results(force=True)
                self.metrics.health_status.set(overall(results).metric_value)
            except Exception:
                _logger.exception("background health run failed")
            await asyncio.sleep(interval)
