"""Checks a jobs file against Prometheus before the sidecar runs it: does each query work, and how many
series does it return against the job's ``max_series``."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from otel_ops.sidecar.jobs.config import AnomalyJob
from otel_ops.sidecar.jobs.prometheus_api import QUERY_TIMEOUT_SECONDS, PrometheusQueryError, prometheus_data


class PrometheusUnreachable(Exception):
    pass


@dataclass(frozen=True)
class JobCheck:
    job: AnomalyJob
    series: int | None = None
    """Series the query returns now (``None``: not asked, or the query failed)."""
    problem: str | None = None
    """Why the job cannot run as configured (a failed query, series beyond ``max_series``)."""
    note: str | None = None
    """Worth knowing, not an error (no series yet)."""


def check_job(job: AnomalyJob, prometheus_url: str, http: httpx.Client) -> JobCheck:
    """Ask Prometheus for ``job``'s query now (an instant query) and judge what comes back.

    Raises :class:`PrometheusUnreachable` when there is no answer at all (no job could be judged)."""
    url = f"{prometheus_url.rstrip('/')}/api/v1/query"
    try:
        response = http.get(url, params={"query": job.query}, timeout=QUERY_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise PrometheusUnreachable(f"Prometheus at {prometheus_url} did not answer: {exc!r}") from None
    try:
        data = prometheus_data(response, "/api/v1/query") or {}
    except PrometheusQueryError as exc:
        return JobCheck(job, problem=str(exc))
    if data.get("resultType") not in ("vector", "matrix"):
        return JobCheck(
            job, problem=f"the query returns a {data.get('resultType')}, not series: wrap it in vector(...)"
        )
    series = len(data.get("result") or [])
    if series > job.max_series:
        return JobCheck(
            job,
            series,
            problem=f"{series} series, more than max_series {job.max_series}: aggregate the query "
            "(for example sum by (service_name) (...)) or raise max_series",
        )
    if series == 0:
        return JobCheck(job, 0, note="no series now (the metric may not exist yet, or the labels match none)")
    return JobCheck(job, series)
