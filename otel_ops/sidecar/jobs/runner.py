"""Runs anomaly jobs: each new point of each series goes to that series' detector; anomalies alert.

Every run asks Prometheus (``query_range``) for the points since the last one scored, so no point is
skipped or scored twice.  A failed run (Prometheus or Alertmanager down) is retried with exponential
backoff up to ``MAX_BACKOFF_SECONDS``; alerts not yet delivered are kept and sent with the next run, one
entry per alert (an incident's later points merged into it as Alertmanager merges them), at most
``state.MAX_PENDING_ALERTS`` per job.

A job scores at most its ``max_series`` series (each keeps up to about a megabyte of history): those it
already follows first, then new ones in label order; the rest are counted and named in a warning, so a
query that lost its ``sum by (...)`` cannot exhaust the sidecar's memory.  A series that has returned no
point for ``STALE_SERIES_SECONDS`` is forgotten (a pod that is gone), freeing its place.

At most ``MAX_CONCURRENT_RUNS`` jobs fetch and score at once, and each query may take
``QUERY_TIMEOUT_SECONDS``: many jobs starting together (each backfilling its history) queue instead of
timing out against Prometheus.  A run that fetches at least ``SCORING_CHUNK_POINTS`` steps (a backfill, or
catching up after an outage) is a long history: such runs go one at a time, since scoring is one thread
anyway and every history fetched while waiting for it would be held in memory (megabytes each); after one,
the memory the C allocator kept of the fetched history goes back to the system
(:mod:`otel_ops.sidecar.memory`).

Each job is a non-critical health check (``anomaly-job:runs``, its name as component id) on
``/health/detailed``: failing after ``FAILING_RUNS`` failed runs in a row (the AnomalyJobFailing alert's
count), warning after fewer or while series are left out, passing with its series counted.

Scoring is CPU work (a backfilled week of one-minute points takes about a second per series), so it runs
in one worker thread, ``SCORING_CHUNK_POINTS`` points at a time: the event loop keeps answering health
probes and API requests while jobs score, and a shutdown waits for one chunk at most.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import time
import urllib.parse
from functools import partial
from typing import Any

import httpx

from otel_ops.sidecar.alerts.client import AlertmanagerClient
from otel_ops.sidecar.anomaly import AnomalyResult, ArrivalGuard, EnsembleDetector, OddityTally
from otel_ops.sidecar.anomaly.reasons import describe, strongest_component
from otel_ops.sidecar.anomaly.reasons import label as reason_label
from otel_ops.sidecar.events import EventBus
from otel_ops.sidecar.health import Check, Outcome, Status
from otel_ops.sidecar.jobs.config import AnomalyJob
from otel_ops.sidecar.jobs.prometheus_api import (
    QUERY_TIMEOUT_SECONDS,
    PrometheusQueryError,
    prometheus_data,
    series_name,
)
from otel_ops.sidecar.jobs.state import JobState, iso, score_points
from otel_ops.sidecar.memory import release_free_memory
from otel_ops.sidecar.metrics import SidecarMetrics

_logger = logging.getLogger("otel_ops.sidecar.jobs")

MAX_BACKOFF_SECONDS = 300.0
SCORING_CHUNK_POINTS = 1000
MAX_CONCURRENT_RUNS = 4
STALE_SERIES_SECONDS = 86_400.0
FAILING_RUNS = 3
ALERT_NAME = "OtelOpsAnomaly"
INCIDENT_LABEL = "anomaly_incident"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def _warn_new_oddities(job: AnomalyJob, key: str, before: dict[str, int], tally: OddityTally) -> None:
    """One warning per run and series when points arrived oddly: counts per kind in this run."""
    now = tally.as_dict()
    new = {kind: now[kind] - before[kind] for kind in now if now[kind] > before[kind]}
    if new:
        counts = ", ".join(f"{kind} {count}" for kind, count in new.items())
        _logger.warning(
            "anomaly job %s, series %s: points scored in arrival order despite: %s (since start: %s)",
            job.name,
            key,
            counts,
            tally.summary(),
        )


class AnomalyJobRunner:
    def __init__(
        self,
        jobs: list[AnomalyJob],
        *,
        prometheus_url: str,
        alertmanager: AlertmanagerClient,
        http: httpx.AsyncClient,
        metrics: SidecarMetrics,
        events: EventBus,
    ) -> None:
        self.jobs = jobs
        self.prometheus_url = prometheus_url.rstrip("/")
        self.alertmanager = alertmanager
        self.http = http
        self.metrics = metrics
        self.events = events
        self.states = {job.name: JobState() for job in jobs}
        self._runs = asyncio.Semaphore(MAX_CONCURRENT_RUNS)
        self._long_runs = asyncio.Lock()
        self._scoring = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="anomaly-scoring")

    def start(self) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(self.run_forever(job), name=f"anomaly-job-{job.name}") for job in self.jobs
        ]

    def health_checks(self) -> list[Check]:
        """One non-critical check per job: whether its runs work (see the module's documentation)."""
        return [
            Check("anomaly-job:runs", job.name, "component", False, partial(self._health, job))
            for job in self.jobs
        ]

    async def _health(self, job: AnomalyJob) -> Outcome:
        state = self.states[job.name]
        if state.failures:
            status = Status.FAIL if state.failures >= FAILING_RUNS else Status.WARN
            return Outcome(status, state.failures, "failed runs in a row", state.last_error)
        series = len(state.detectors)
        if state.refused:
            left_out = f"{state.refused} series beyond max_series {job.max_series} not scored"
            return Outcome(Status.WARN, series, "series", left_out)
        if not state.runs:
            return Outcome(Status.PASS, output="waiting for its first run")
        return Outcome(Status.PASS, series, "series")

    def close(self) -> None:
        """Stop scoring: chunks not started are dropped (their jobs' tasks are cancelled first)."""
        self._scoring.shutdown(wait=False, cancel_futures=True)

    async def run_forever(self, job: AnomalyJob) -> None:
        state = self.states[job.name]
        self.metrics.anomaly_job_interval.labels(job=job.name).set(job.interval_seconds)
        while True:
            try:
                await self.run_once(job)
                state.failures, state.last_error = 0, None
                state.runs += 1
                delay = job.interval_seconds
                self.metrics.anomaly_job_last_success.labels(job=job.name).set(time.time())
            except Exception as exc:
                state.failures += 1
                state.last_error = str(exc)
                delay = min(job.interval_seconds * 2**state.failures, MAX_BACKOFF_SECONDS)
                _logger.warning(
                    "anomaly job %s failed (%d in a row), retrying in %.0fs: %s",
                    job.name,
                    state.failures,
                    delay,
                    exc,
                )
            self.metrics.anomaly_job_errors.labels(job=job.name).set(state.failures)
            await asyncio.sleep(delay)

    async def _prometheus(self, path: str, params: dict[str, Any]) -> Any:
        try:
            response = await self.http.get(
                f"{self.prometheus_url}{path}", params=params, timeout=QUERY_TIMEOUT_SECONDS
            )
        except httpx.HTTPError as exc:
            raise PrometheusQueryError(f"Prometheus at {self.prometheus_url} unreachable: {exc!r}") from None
        return prometheus_data(response, path)

    async def run_once(self, job: AnomalyJob, now: float | None = None) -> list[AnomalyResult]:
        """Score the points since the last run; send anomalies (and any still-pending alerts)."""
        state = self.states[job.name]
        now = time.time() if now is None else now
        start = state.next_start if state.next_start is not None else now - job.backfill_seconds
        anomalies: list[AnomalyResult] = []
        if start <= now:
            long_history = (now - start) / job.step >= SCORING_CHUNK_POINTS  # a backfill, or catching up
            async with self._long_runs if long_history else contextlib.nullcontext(), self._runs:
                anomalies = await self._fetch_and_score(job, state, start, now)
                if long_history:
                    # The fetched history is gone: what the C allocator keeps of it goes back to the system.
                    await asyncio.get_running_loop().run_in_executor(self._scoring, release_free_memory)
        await self._flush(state)
        return anomalies

    async def _fetch_and_score(
        self, job: AnomalyJob, state: JobState, start: float, end: float
    ) -> list[AnomalyResult]:
        step = job.step
        data = await self._prometheus(
            "/api/v1/query_range", {"query": job.query, "start": start, "end": end, "step": step}
        )
        state.next_start = start + (math.floor((end - start) / step) + 1) * step
        anomalies: list[AnomalyResult] = []
        for key, labels, points in self._admitted(job, state, data.get("result", []), end):
            anomalies += await self._score_series(job, state, key, labels, points)
        self.metrics.anomaly_job_series.labels(job=job.name).set(len(state.detectors))
        return anomalies

    def _admitted(
        self, job: AnomalyJob, state: JobState, result: list[dict[str, Any]], end: float
    ) -> list[tuple[str, dict[str, str], list[list[Any]]]]:
        """The series of a query result this job scores: stale series forgotten, at most ``max_series``."""
        for key, last in list(state.last_point.items()):
            if last < end - STALE_SERIES_SECONDS:
                state.forget(key)
                with contextlib.suppress(KeyError):  # it never scored a point
                    self.metrics.anomaly_score.remove(job.name, key)
        known: list[tuple[str, dict[str, str], list[list[Any]]]] = []
        new: list[tuple[str, dict[str, str], list[list[Any]]]] = []
        for series in result:
            labels = {str(k): str(v) for k, v in (series.get("metric") or {}).items()}
            key = series_name(labels)
            (known if key in state.detectors else new).append((key, labels, series.get("values") or []))
        new.sort(key=lambda item: item[0])
        room = max(0, job.max_series - len(state.detectors))
        refused = max(0, len(new) - room)
        if refused and refused != state.refused:
            _logger.warning(
                "anomaly job %s: the query returned %d series; %d not scored (max_series %d, each series "
                "keeps up to about 1 MB of history), the first: %s. Aggregate the query (for example "
                "sum by (service_name) (...)) or raise the job's max_series.",
                job.name,
                len(result),
                refused,
                job.max_series,
                new[room][0],
            )
        state.refused = refused
        self.metrics.anomaly_job_series_refused.labels(job=job.name).set(refused)
        return known + new[:room]

    async def _score_series(
        self, job: AnomalyJob, state: JobState, key: str, labels: dict[str, str], points: list[list[Any]]
    ) -> list[AnomalyResult]:
        if key not in state.detectors:
            state.detectors[key] = EnsembleDetector(job.detector, step_seconds=job.step)
            state.arrivals[key] = ArrivalGuard(expected_step=job.step)
            state.oddities[key] = OddityTally()
        odd_before = state.oddities[key].as_dict()
        loop = asyncio.get_running_loop()
        anomalies: list[AnomalyResult] = []
        last: AnomalyResult | None = None
        for first in range(0, len(points), SCORING_CHUNK_POINTS):
            chunk = points[first : first + SCORING_CHUNK_POINTS]
            scored, chunk_last = await loop.run_in_executor(self._scoring, score_points, state, key, chunk)
            last = chunk_last or last
            for timestamp, value, result in scored:
                anomalies.append(result)
                reason = describe(result)
                state.hold(await self._alert(job, labels, key, result, reason))
                self.events.publish(
                    "anomaly",
                    {
                        "job": job.name,
                        "series": key,
                        "time": iso(timestamp),
                        "value": value,
                        "score": result.score,
                        "incident": iso(
                            result.timestamp if result.incident_start is None else result.incident_start
                        ),
                        "expected": result.expected,
                        "lower": result.lower,
                        "upper": result.upper,
                        "reason": reason,
                    },
                )
        _warn_new_oddities(job, key, odd_before, state.oddities[key])
        if last is not None:
            self.metrics.anomaly_score.labels(job=job.name, series=key).set(last.score)
        return anomalies

    async def _exemplar_trace_id(self, job: AnomalyJob, timestamp: float) -> str | None:
        if not job.exemplars:
            return None
        try:
            data = await self._prometheus(
                "/api/v1/query_exemplars",
                {"query": job.query, "start": timestamp - job.step, "end": timestamp + job.step},
            )
        except PrometheusQueryError:
            return None
        for series in data or []:
            for exemplar in series.get("exemplars") or []:
                labels = exemplar.get("labels") or {}
                trace_id = labels.get("trace_id") or labels.get("traceID")
                if trace_id:
                    return str(trace_id)
        return None

    async def _alert(
        self, job: AnomalyJob, labels: dict[str, str], key: str, result: AnomalyResult, reason: str | None
    ) -> dict[str, Any]:
        series_labels = {k: v for k, v in labels.items() if k != "__name__"}
        alert_labels = {
            **series_labels,
            **job.labels,
            "alertname": ALERT_NAME,
            "anomaly_job": job.name,
            "severity": job.severity,
        }
        if result.incident_start is not None:
            # One alert per incident: the detector's points of one incident refresh it; a new incident (an
            # outage right after a false high) is a new alert, which Alertmanager notifies again.
            alert_labels[INCIDENT_LABEL] = iso(result.incident_start)
        strongest = strongest_component(result)
        expected = f"expected {_fmt(result.expected)}" + (f"; {reason_label(strongest)}" if strongest else "")
        annotations = {
            "summary": f"Anomaly in {job.name}: {_fmt(result.value)} ({expected})",
            "description": (
                f"Series {key} of anomaly job {job.name} was {_fmt(result.value)} "
                f"at {iso(result.timestamp)}; expected band [{_fmt(result.lower)}, {_fmt(result.upper)}], "
                f"anomaly score {result.score:.3f}." + (f" Strongest evidence: {reason}." if reason else "")
            ),
            "anomaly_score": f"{result.score:.3f}",
            "series": key,
            **({"anomaly_reason": reason} if reason else {}),
            **job.annotations,
        }
        trace_id = await self._exemplar_trace_id(job, result.timestamp)
        if trace_id:
            annotations["trace_id"] = trace_id
        generator = f"{self.prometheus_url}/graph?" + urllib.parse.urlencode(
            {"g0.expr": job.query, "g0.tab": 0}
        )
        return {
            "labels": alert_labels,
            "annotations": annotations,
            "startsAt": iso(result.timestamp),
            "endsAt": iso(max(result.timestamp, time.time()) + job.resolve_after),
            "generatorURL": generator,
        }

    async def _flush(self, state: JobState) -> None:
        if not state.pending:
            return
        batch = dict(state.pending)
        await self.alertmanager.post_alerts(list(batch.values()))
        for key, alert in batch.items():
            if state.pending.get(key) is alert:
                del state.pending[key]
