"""Runs the health checks concurrently in rounds with one timeout, caches results, exports and announces them.

Rounds are shared (single-flight): a caller whose checks are already running in a round waits for that
round's results instead of starting its own, so any number of concurrent requests, and the background
refresh, start one round between them. A round ends at the check timeout whatever its checks do: one that
has not answered by then (even one that ignores being cancelled) is reported as timed out, so no caller
waits longer than one timeout.
"""

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

Round = asyncio.Task[dict[str, CheckResult]]


def _result(check: Check, outcome: Outcome) -> CheckResult:
    if outcome.output:  # URLs with passwords or tokens, DSNs in driver errors: never shown
        outcome = replace(outcome, output=scrubbed(outcome.output))
    return CheckResult(check, outcome, dt.datetime.now(dt.UTC), time.monotonic())


async def _run_check(check: Check) -> CheckResult:
    try:
        outcome = await check.run()
    except Exception as exc:  # a broken check is one failed entry, never an error response
        outcome = Outcome(Status.FAIL, output=f"check raised {type(exc).__name__}: {exc}"[:500])
    return _result(check, outcome)


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
        self._in_flight: dict[str, Round] = {}  # check ident -> the running round that covers it
        self._abandoned: dict[str, asyncio.Task[CheckResult]] = {}  # timed out, cancelled, not yet ended

    async def results(self, *, critical_only: bool = False, force: bool = False) -> list[CheckResult]:
        """Current results. Checks older than the cache TTL (or all, with ``force``) are taken from the
        round running them, if there is one, or run in a new round: at most one timeout of waiting."""
        wanted = [c for c in self.checks if c.critical or not critical_only]
        now = time.monotonic()
        found: dict[str, CheckResult] = {}
        rounds: set[Round] = set()
        to_run: list[Check] = []
        # No await until every stale check is joined to a round or started in one: nothing interleaves.
        for check in wanted:
            cached = self._results.get(check.ident)
            if not force and cached is not None and now - cached.monotonic < self.cache_ttl:
                found[check.ident] = cached
            elif (running := self._in_flight.get(check.ident)) is not None:
                rounds.add(running)
            else:
                to_run.append(check)
        if to_run:
            rounds.add(self._start_round(to_run))
        if rounds:
            await asyncio.wait(rounds)  # a caller that goes away leaves the round running for the others
            for finished in rounds:
                found.update(finished.result())
        return [found[c.ident] for c in wanted]

    def _start_round(self, checks: list[Check]) -> Round:
        running: Round = asyncio.create_task(self._round(checks), name="health check round")
        for check in checks:
            self._in_flight[check.ident] = running
        running.add_done_callback(self._round_done)
        return running

    def _round_done(self, finished: Round) -> None:
        for ident in [i for i, running in self._in_flight.items() if running is finished]:
            del self._in_flight[ident]
        if not finished.cancelled() and finished.exception() is not None:
            _logger.error("health check round failed", exc_info=finished.exception())

    async def _round(self, checks: list[Check]) -> dict[str, CheckResult]:
        runs: dict[asyncio.Task[CheckResult], Check] = {}
        results: dict[str, CheckResult] = {}
        for check in checks:
            stuck = self._abandoned.get(check.ident)
            if stuck is not None and not stuck.done():  # never two copies of a check that will not stop
                output = f"timed out after {self.timeout:g}s; an earlier run has still not stopped"
                results[check.ident] = _result(check, Outcome(Status.FAIL, output=output))
            else:
                runs[asyncio.create_task(_run_check(check), name=f"health check {check.ident}")] = check
        pending: set[asyncio.Task[CheckResult]] = set(runs)
        try:
            if runs:
                _, pending = await asyncio.wait(set(runs), timeout=self.timeout)
        finally:
            for run in pending:
                run.cancel()  # not awaited: a check that ignores cancellation must not hold the round
                self._abandoned[runs[run].ident] = run
                run.add_done_callback(self._forget_abandoned)
        for run, check in runs.items():
            if run in pending:
                outcome = Outcome(Status.FAIL, output=f"timed out after {self.timeout:g}s")
                results[check.ident] = _result(check, outcome)
            else:
                results[check.ident] = run.result()
        for check in checks:
            self._store(results[check.ident])
        return results

    def _forget_abandoned(self, run: asyncio.Task[CheckResult]) -> None:
        for ident in [i for i, stuck in self._abandoned.items() if stuck is run]:
            del self._abandoned[ident]

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
        """Background refresh so metrics and events follow dependencies without requests; it shares
        rounds with requests like any other caller."""
        while True:
            try:
                results = await self.results(force=True)
                self.metrics.health_status.set(overall(results).metric_value)
                self.metrics.health_round_timestamp.set(time.time())
            except Exception:
                _logger.exception("background health run failed")
            await asyncio.sleep(interval)

    async def aclose(self) -> None:
        """Stops the running rounds (their callers get no results); call before closing the HTTP client."""
        rounds = set(self._in_flight.values())
        for running in rounds:
            running.cancel()
        for stuck in self._abandoned.values():
            stuck.cancel()
        await asyncio.gather(*rounds, return_exceptions=True)
