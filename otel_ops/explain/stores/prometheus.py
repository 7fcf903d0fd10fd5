"""Prometheus: alerts and their rules, exemplars of the alerted series, error counts by fingerprint.

Metric names are matched by pattern, because the Collector's translation decides the suffixes
(``http_server_request_duration_seconds_bucket``, ``traces_span_metrics_duration_seconds_bucket``,
``app_errors_total``).
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from otel_ops.explain.model import ErrorGroup, Exemplar, Link, Window
from otel_ops.explain.stores.http import StoreHttp

#: Duration histograms whose exemplars point at traces: the HTTP server metric and the span metrics.
DURATION_METRICS = (
    "http_server_request_duration(_seconds)?_bucket|"
    "traces_span_metrics_duration(_seconds|_milliseconds)?_bucket"
)
ERRORS_METRIC = "app_errors(_total)?"
#: Longest window whose raw error-counter samples are read (exact counts); longer ones use increase().
RAW_SAMPLES_LIMIT_S = 6 * 3600


def matcher_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def selector(name_regex: str, matchers: Mapping[str, str]) -> str:
    parts = [f"__name__=~{matcher_value(name_regex)}"]
    parts += [f"{name}={matcher_value(value)}" for name, value in sorted(matchers.items())]
    return "{" + ", ".join(parts) + "}"


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds))}s"


def graph_url(base: str, expr: str, window: Window) -> str:
    """Prometheus' graph page for ``expr`` over ``window``, with exemplars shown."""
    end = dt.datetime.fromtimestamp(window.end, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    params = {
        "g0.expr": expr,
        "g0.tab": "0",
        "g0.range_input": _duration(window.seconds),
        "g0.end_input": end,
        "g0.show_exemplars": "1",
    }
    return f"{base}/graph?{urllib.parse.urlencode(params)}"


class PrometheusStore:
    name = "Prometheus"

    def __init__(self, url: str, http: httpx.Client) -> None:
        self._http = StoreHttp(self.name, url, http)
        self.url = self._http.url

    def api(self, path: str, **params: Any) -> Any:
        body = self._http.json("GET", path, params=params)
        if not isinstance(body, dict) or body.get("status") != "success":
            raise self._http.unreadable(path, str(body))
        return body.get("data")

    def alerts(self) -> list[dict[str, Any]]:
        """Pending and firing alerts of the rules (``/api/v1/alerts``)."""
        return list((self.api("/api/v1/alerts") or {}).get("alerts") or [])

    def alert_rule(self, name: str) -> dict[str, Any] | None:
        for group in (self.api("/api/v1/rules", type="alert") or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                if rule.get("name") == name:
                    return dict(rule)
        return None

    def exemplars(self, matchers: Mapping[str, str], window: Window) -> list[Exemplar]:
        """Exemplars of the duration histograms of the series matching ``matchers`` within ``window``."""
        data = self.api(
            "/api/v1/query_exemplars",
            query=selector(DURATION_METRICS, matchers),
            start=f"{window.start:.3f}",
            end=f"{window.end:.3f}",
        )
        found: list[Exemplar] = []
        for series in data or []:
            labels = {str(k): str(v) for k, v in (series.get("seriesLabels") or {}).items()}
            metric = labels.get("__name__", "")
            scale = 0.001 if "_milliseconds_" in metric else 1.0
            for exemplar in series.get("exemplars") or []:
                exemplar_labels = exemplar.get("labels") or {}
                trace_id = str(exemplar_labels.get("trace_id") or exemplar_labels.get("traceID") or "")
                if not trace_id:
                    continue
                found.append(
                    Exemplar(
                        trace_id=trace_id.lower().rjust(32, "0"),
                        span_id=exemplar_labels.get("span_id") or exemplar_labels.get("spanID"),
                        value_seconds=float(exemplar.get("value", 0)) * scale,
                        timestamp=float(exemplar.get("timestamp", 0)),
                        metric=metric,
                        series={k: v for k, v in labels.items() if k not in {"__name__", "le"}},
                    )
                )
        return found

    def error_groups(
        self, matchers: Mapping[str, str], window: Window, fingerprints: Sequence[str] = ()
    ) -> list[ErrorGroup]:
        """Errors counted by ``app_errors_total`` within ``window``, one group per fingerprint, most first.

        Up to six hours the raw samples are read, so errors of a series that began inside the window are
        counted too (``increase()`` would miss its first value) and first/last seen are known.
        """
        series_selector = selector(ERRORS_METRIC, matchers)
        if fingerprints:
            alternatives = "|".join(re.escape(fp) for fp in fingerprints)
            series_selector = f"{series_selector[:-1]}, error_fingerprint=~{matcher_value(alternatives)}}}"
        if window.seconds > RAW_SAMPLES_LIMIT_S:
            return self._error_groups_by_increase(series_selector, window)
        samples = self.api(
            "/api/v1/query", query=f"{series_selector}[{_duration(window.seconds)}]", time=f"{window.end:.3f}"
        )
        before = self.api("/api/v1/query", query=series_selector, time=f"{window.start:.3f}")
        baseline = {
            _series_key(s.get("metric") or {}): float(s["value"][1]) for s in before.get("result") or []
        }
        groups: dict[str, ErrorGroup] = {}
        for series in samples.get("result") or []:
            labels = series.get("metric") or {}
            previous = baseline.get(_series_key(labels), 0.0)
            count, first, last = 0.0, None, None
            for timestamp, value in series.get("values") or []:
                current = float(value)
                increase = current - previous if current >= previous else current  # a reset starts again
                if increase > 0:
                    count += increase
                    first = first if first is not None else float(timestamp)
                    last = float(timestamp)
                previous = current
            if count > 0:
                _merge(groups, labels, round(count), first, last)
        return sorted(groups.values(), key=lambda g: (-(g.count or 0), g.fingerprint))

    def _error_groups_by_increase(self, series_selector: str, window: Window) -> list[ErrorGroup]:
        data = self.api(
            "/api/v1/query",
            query=f"increase({series_selector}[{_duration(window.seconds)}])",
            time=f"{window.end:.3f}",
        )
        groups: dict[str, ErrorGroup] = {}
        for series in data.get("result") or []:
            count = round(float(series["value"][1]))
            if count > 0:
                _merge(groups, series.get("metric") or {}, count, None, None)
        return sorted(groups.values(), key=lambda g: (-(g.count or 0), g.fingerprint))

    def graph_link(self, title: str, expr: str, window: Window) -> Link:
        return Link(title, graph_url(self.url, expr, window), self.name)


def _series_key(labels: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in labels.items() if k != "__name__"))


def _merge(
    groups: dict[str, ErrorGroup],
    labels: Mapping[str, Any],
    count: int,
    first: float | None,
    last: float | None,
) -> None:
    fingerprint = str(labels.get("error_fingerprint") or "unknown")
    group = groups.setdefault(fingerprint, ErrorGroup(fingerprint=fingerprint, count=0))
    group.count = (group.count or 0) + count
    group.error_type = group.error_type or labels.get("error_type")
    service = labels.get("service_name")
    if service and service not in group.services:
        group.services.append(str(service))
    if first is not None:
        group.first_seen = first if group.first_seen is None else min(group.first_seen, first)
    if last is not None:
        group.last_seen = last if group.last_seen is None else max(group.last_seen, last)
