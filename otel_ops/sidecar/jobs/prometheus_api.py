"""Reading Prometheus' HTTP API answers, shared by the job runner and ``otel-ops anomaly check``."""

from __future__ import annotations

from typing import Any

import httpx

QUERY_TIMEOUT_SECONDS = 30.0
"""How long one query may take: a backfilled week of a job, or a check of its query."""


class PrometheusQueryError(Exception):
    pass


def prometheus_data(response: httpx.Response, path: str) -> Any:
    """The ``data`` of a Prometheus API answer; :class:`PrometheusQueryError` with its status and error."""
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code != 200 or payload.get("status") != "success":
        raise PrometheusQueryError(
            f"Prometheus {path} HTTP {response.status_code}: {payload.get('error') or response.text[:200]}"
        )
    return payload["data"]


def series_name(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{inner}}}"
