"""Explain an alert, a trace or an error fingerprint from what the stores hold.

* :func:`explain_alert`: the alert (Alertmanager, else Prometheus), the exemplar traces of the alerted
  series in the alert's window (failing and slowest), the first of them that the trace store has with its
  span tree and logs, the error fingerprints counted in the window, and links.
* :func:`explain_trace`: one trace's spans and logs, and the error fingerprints in it.
* :func:`explain_fingerprint`: one error group: counts, first and last seen, traces and log records
  carrying it, and one example trace explained.

A store that cannot answer makes the explanation incomplete (``Explanation.problems``) rather than failing
it, except the one store a question cannot do without; the sections it would have filled are listed in
``Explanation.unanswered``, so that nothing reads "not found" that was never asked. Nothing found anywhere
raises :class:`~otel_ops.explain.errors.NotFound`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from otel_ops import _http as http_clients
from otel_ops.explain import arguments, grafana
from otel_ops.explain.errors import NotFound, StoreUnavailable
from otel_ops.explain.model import (
    AlertInfo,
    ErrorGroup,
    Exemplar,
    Explanation,
    Problem,
    TraceView,
    Window,
    rfc3339_seconds,
)
from otel_ops.explain.settings import StoreUrls
from otel_ops.explain.stores import (
    AlertmanagerStore,
    JaegerStore,
    LogStore,
    LogSummary,
    LokiStore,
    PrometheusStore,
    TempoStore,
    TraceStore,
    VictoriaLogsStore,
)
from otel_ops.explain.stores.prometheus import DURATION_METRICS, ERRORS_METRIC, selector

T = TypeVar("T")

DEFAULT_LOG_LIMIT = 200
DEFAULT_EXEMPLARS = 5  # failing ones, and as many slowest ones
ALERT_LOOKBACK_S = 15 * 60  # before the alert started: the errors that made it fire
FINGERPRINT_WINDOW_S = 3600
TRACE_SEARCH_WINDOW_S = 7 * 86400  # the stores' default retention
TRACE_LOG_MARGIN_S = 15 * 60  # logs of a trace are searched this far around it
TRACE_ERRORS_WINDOW_S = 3600  # a trace's fingerprints are counted over the hour before it ended
MAX_TRACES_TRIED = 5
#: Alert labels that also label the metrics, so that they select the alerted series.
SERIES_LABELS = (
    "service_name",
    "service_namespace",
    "deployment_environment_name",
    "http_route",
    "http_request_method",
    "span_name",
)


@dataclass
class Stores:
    """The stores an explanation reads. ``connect`` opens them with one HTTP client; close them after."""

    traces: TraceStore
    logs: LogStore
    prometheus: PrometheusStore
    alertmanager: AlertmanagerStore
    grafana_url: str | None = None
    http: httpx.Client | None = None

    @classmethod
    def connect(cls, urls: StoreUrls, timeout: float = 5.0) -> Stores:
        http = http_clients.client(timeout=timeout)
        trace_kind, trace_url = urls.traces
        log_kind, log_url = urls.logs
        traces: TraceStore = (
            TempoStore(trace_url, http) if trace_kind == "tempo" else JaegerStore(trace_url, http)
        )
        logs: LogStore = LokiStore(log_url, http) if log_kind == "loki" else VictoriaLogsStore(log_url, http)
        return cls(
            traces=traces,
            logs=logs,
            prometheus=PrometheusStore(urls.prometheus, http),
            alertmanager=AlertmanagerStore(urls.alertmanager, http),
            grafana_url=urls.grafana,
            http=http,
        )

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    def __enter__(self) -> Stores:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, str]:
        described = {
            "traces": f"{self.traces.name} {self.traces.url}",
            "logs": f"{self.logs.name} {self.logs.url}",
            "metrics": f"{self.prometheus.name} {self.prometheus.url}",
            "alerts": f"{self.alertmanager.name} {self.alertmanager.url}",
        }
        if self.grafana_url:
            described["grafana"] = f"Grafana {self.grafana_url}"
        return described


@dataclass
class _Run:
    """One explanation being put together; a store that failed once is not asked again.

    ``section`` names the part of the explanation a call gathers: when the store could not be asked, the
    explanation says so for that part (``Explanation.unanswered``).
    """

    explanation: Explanation
    down: dict[str, Problem] = field(default_factory=dict)  # store name -> why it could not be asked

    def attempt(self, store: Any, call: Callable[[], T], default: T, section: str | None = None) -> T:
        problem = self.down.get(store.name)
        if problem is None:
            try:
                return call()
            except StoreUnavailable as exc:
                problem = self.down[store.name] = Problem(exc.store, exc.url, exc.detail, exc.hint)
                self.explanation.problems.append(problem)
        if section is not None:
            self.explanation.not_asked(section, problem)
        return default

    def attempt_list(self, store: Any, call: Callable[[], list[T]], section: str | None = None) -> list[T]:
        """``attempt`` for a call that lists things: nothing when the store is down."""
        return self.attempt(store, call, [], section)


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# --- one trace -------------------------------------------------------------------------------------------


def _add_trace(run: _Run, stores: Stores, trace_id: str, search: Window, log_limit: int) -> bool | None:
    """The trace's spans, logs and links into the explanation; True found, False not, None unknown."""
    explanation = run.explanation
    explanation.trace_id = trace_id
    spans = run.attempt(stores.traces, lambda: stores.traces.trace(trace_id), None, "trace")
    answered = stores.traces.name not in run.down
    around = search
    if spans:
        explanation.trace = TraceView(trace_id, spans, stores.traces.name)
        around = Window(
            explanation.trace.start_unix_nano / 1e9 - TRACE_LOG_MARGIN_S,
            explanation.trace.end_unix_nano / 1e9 + TRACE_LOG_MARGIN_S,
        )
    explanation.logs_window = around
    explanation.logs = run.attempt_list(
        stores.logs, lambda: stores.logs.trace_logs(trace_id, around, log_limit), "logs"
    )
    explanation.links += stores.traces.trace_links(trace_id, around)
    explanation.links += stores.logs.trace_log_links(trace_id, around)
    if stores.grafana_url:
        explanation.links.append(grafana.trace_link(stores.grafana_url, trace_id, around))
        logql = LokiStore.trace_query(trace_id)
        explanation.links.append(
            grafana.logs_link(stores.grafana_url, "Grafana Explore: the trace's logs (Loki)", logql, around)
        )
    if spans:
        return True
    return False if answered else None


def _trace_fingerprints(explanation: Explanation) -> list[str]:
    from_spans = explanation.trace.fingerprints if explanation.trace else []
    return _unique([*from_spans, *(record.fingerprint for record in explanation.logs)])


def explain_trace(
    trace_id: str,
    stores: Stores,
    *,
    window: Window | None = None,
    log_limit: int = DEFAULT_LOG_LIMIT,
    now: float | None = None,
) -> Explanation:
    """Spans, logs and error fingerprints of one trace.

    ``window`` is where its logs are searched when the trace store does not have it (default: the last
    7 days). Raises InvalidArgument for a malformed id and NotFound when no store has the trace.
    """
    trace_id = arguments.trace_id(trace_id)
    now = time.time() if now is None else now
    search = window or Window(now - TRACE_SEARCH_WINDOW_S, now + 60)
    explanation = Explanation("trace", trace_id, search, stores.describe())
    run = _Run(explanation)
    found = _add_trace(run, stores, trace_id, search, log_limit)
    if explanation.trace is not None:
        end = explanation.trace.end_unix_nano / 1e9
        explanation.window = window or Window(end - TRACE_ERRORS_WINDOW_S, end + 60)
    if found is False and not explanation.logs and stores.logs.name not in run.down:
        raise NotFound(
            f"trace {trace_id} is neither in {stores.traces.name} ({stores.traces.url}) nor in "
            f"{stores.logs.name} ({stores.logs.url})",
            "Spans and logs reach the stores a second or two after a request ends; a trace older than the "
            "stores' retention is gone; a service sending to another Collector sends to other stores.",
        )
    if found is False:
        explanation.problems.append(
            Problem(
                stores.traces.name,
                stores.traces.url,
                f"has no trace {trace_id}" + (" (its logs are shown)" if explanation.logs else ""),
                "Its spans may not have arrived yet, or were not sampled.",
            )
        )
    _add_error_counts(run, stores, {}, explanation.window, _trace_fingerprints(explanation))
    return explanation


def _add_error_counts(
    run: _Run, stores: Stores, matchers: Mapping[str, str], window: Window, fingerprints: list[str]
) -> None:
    """Error groups for ``fingerprints`` (counted in Prometheus) with what the trace says of them."""
    if not fingerprints:
        return
    explanation = run.explanation
    counted = run.attempt_list(
        stores.prometheus, lambda: stores.prometheus.error_groups(matchers, window, fingerprints), "errors"
    )
    by_print = {group.fingerprint: group for group in counted}
    for fingerprint in fingerprints:
        group = by_print.get(fingerprint) or ErrorGroup(fingerprint)
        _describe_from_trace(group, explanation)
        explanation.errors.append(group)


def _describe_from_trace(group: ErrorGroup, explanation: Explanation) -> None:
    trace = explanation.trace
    if trace is not None:
        for span in trace.spans:
            if span.error_fingerprint == group.fingerprint and span.exception:
                group.error_type = group.error_type or span.exception["type"] or None
                group.message = group.message or span.exception["message"] or None
        if group.fingerprint in trace.fingerprints:
            group.example_trace_id = group.example_trace_id or trace.trace_id
            group.trace_ids = _unique([*group.trace_ids, trace.trace_id])
    for record in explanation.logs:
        if record.fingerprint == group.fingerprint:
            group.error_type = group.error_type or record.exception_type
            group.message = group.message or record.exception_message
            if record.service and record.service not in group.services:
                group.services.append(record.service)


# --- one error fingerprint -------------------------------------------------------------------------------


def explain_fingerprint(
    fingerprint: str,
    stores: Stores,
    *,
    window: Window | None = None,
    log_limit: int = DEFAULT_LOG_LIMIT,
    now: float | None = None,
) -> Explanation:
    """One error group in ``window`` (default: the last hour) and an example trace of it."""
    fingerprint = arguments.fingerprint(fingerprint)
    now = time.time() if now is None else now
    window = window or Window(now - FINGERPRINT_WINDOW_S, now)
    explanation = Explanation("fingerprint", fingerprint, window, stores.describe())
    run = _Run(explanation)
    counted = run.attempt_list(
        stores.prometheus, lambda: stores.prometheus.error_groups({}, window, [fingerprint]), "errors"
    )
    group = counted[0] if counted else ErrorGroup(fingerprint)
    summary = run.attempt(
        stores.logs, lambda: stores.logs.fingerprint_summary(fingerprint, window), None, "errors"
    )
    records = run.attempt_list(
        stores.logs, lambda: stores.logs.fingerprint_logs(fingerprint, window, 20), "fingerprint_logs"
    )
    if summary is not None and summary.count:
        _merge_summary(group, summary)
        group.services = _unique([*group.services, *summary.services])
        group.error_type = group.error_type or (summary.types[0] if summary.types else None)
    for record in records:
        group.error_type = group.error_type or record.exception_type
        group.message = group.message or record.exception_message
    searched = run.attempt_list(
        stores.traces,
        lambda: stores.traces.find_trace_ids("error.fingerprint", fingerprint, window, 20),
        "errors",
    )
    group.trace_ids = _unique([*(record.trace_id for record in records), *searched])[:20]
    explanation.related_logs = records
    if not (group.count or group.log_records or group.trace_ids):
        if explanation.problems:
            explanation.notes.append(f"no store that answered has error {fingerprint} in the window")
            return explanation
        raise NotFound(
            f"no error with fingerprint {fingerprint} between {_clock(window.start)} and "
            f"{_clock(window.end)} in {stores.prometheus.name}, {stores.logs.name} or {stores.traces.name}",
            "Look further back with --window (e.g. --window 1d), or check the fingerprint: "
            "`otel-ops explain ALERT` lists the fingerprints of an alert.",
        )
    explanation.errors = [group]
    for trace_id in group.trace_ids[:MAX_TRACES_TRIED]:
        found = _add_trace(run, stores, trace_id, window, log_limit)
        if found:
            group.example_trace_id = trace_id
            break
        if found is None:  # the trace store could not be asked: this trace's logs, and say so
            break
    else:
        _forget_trace(explanation)
        if group.trace_ids:
            explanation.notes.append(
                f"none of the traces with this error is in {stores.traces.name} (tried "
                f"{min(len(group.trace_ids), MAX_TRACES_TRIED)})"
            )
    explanation.links += stores.logs.fingerprint_log_links(fingerprint, window)
    errors_expr = _errors_rate_expr({"error_fingerprint": fingerprint})
    explanation.links.append(
        stores.prometheus.graph_link("Prometheus: this error over time", errors_expr, window)
    )
    if stores.grafana_url:
        explanation.links.append(
            grafana.metrics_link(
                stores.grafana_url, "Grafana Explore: this error over time", errors_expr, window
            )
        )
        explanation.links.append(
            grafana.logs_link(
                stores.grafana_url,
                "Grafana Explore: logs with this error (Loki)",
                LokiStore.fingerprint_query(fingerprint),
                window,
            )
        )
    return explanation


def _forget_trace(explanation: Explanation) -> None:
    """None of the traces tried is in the trace store: no trace explained, nor logs of the last tried."""
    explanation.links, explanation.trace_id, explanation.logs = [], None, []
    explanation.logs_window = None
    explanation.unanswered.pop("logs", None)


def _errors_rate_expr(matchers: Mapping[str, str]) -> str:
    counter = selector(ERRORS_METRIC, matchers)
    return f"sum by (service_name, error_type, error_fingerprint) (increase({counter}[5m]))"


def _clock(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


# --- one alert -------------------------------------------------------------------------------------------


def alert_matchers(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels of an alert that select its series in the metrics (service, route, …)."""
    return {name: str(labels[name]) for name in SERIES_LABELS if labels.get(name)}


def _latency_alert(labels: Mapping[str, str]) -> bool:
    text = f"{labels.get('alertname', '')} {labels.get('alert_family', '')}".lower()
    return "latency" in text or "slow" in text or "duration" in text


def choose_exemplars(
    exemplars: Iterable[Exemplar], labels: Mapping[str, str], per_kind: int = DEFAULT_EXEMPLARS
) -> list[Exemplar]:
    """The most recent failing exemplars and the slowest ones, one per trace; slowest first for latency
    alerts, failing first otherwise."""
    best: dict[str, Exemplar] = {}
    for exemplar in exemplars:
        kept = best.get(exemplar.trace_id)
        rank = (exemplar.failing, exemplar.route is not None, exemplar.value_seconds)
        if kept is None or rank > (kept.failing, kept.route is not None, kept.value_seconds):
            best[exemplar.trace_id] = exemplar
    candidates = list(best.values())
    failing = sorted((e for e in candidates if e.failing), key=lambda e: -e.timestamp)[:per_kind]
    slowest = sorted(candidates, key=lambda e: -e.value_seconds)[:per_kind]
    ordered = [*slowest, *failing] if _latency_alert(labels) else [*failing, *slowest]
    return list({e.trace_id: e for e in ordered}.values())  # each trace once, where it first came


def _alert_from_alertmanager(alert: dict[str, Any], others: list[dict[str, Any]]) -> AlertInfo:
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    return AlertInfo(
        name=labels.get("alertname", ""),
        fingerprint=alert.get("fingerprint"),
        state=str((alert.get("status") or {}).get("state") or "active"),
        labels=labels,
        annotations={str(k): str(v) for k, v in (alert.get("annotations") or {}).items()},
        starts_at=rfc3339_seconds(alert.get("startsAt")),
        ends_at=rfc3339_seconds(alert.get("endsAt")),
        source="Alertmanager",
        generator_url=alert.get("generatorURL"),
        others=[
            {
                "fingerprint": o.get("fingerprint"),
                "labels": o.get("labels") or {},
                "starts_at": o.get("startsAt"),
            }
            for o in others
        ],
    )


def _alert_from_prometheus(alert: dict[str, Any], others: list[dict[str, Any]]) -> AlertInfo:
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    return AlertInfo(
        name=labels.get("alertname", ""),
        fingerprint=None,
        state=str(alert.get("state") or ""),
        labels=labels,
        annotations={str(k): str(v) for k, v in (alert.get("annotations") or {}).items()},
        starts_at=rfc3339_seconds(alert.get("activeAt")),
        ends_at=None,
        source="Prometheus",
        others=[{"labels": o.get("labels") or {}, "starts_at": o.get("activeAt")} for o in others],
    )


def _newest_first(alerts: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(alerts, key=lambda a: rfc3339_seconds(a.get(key)) or 0.0, reverse=True)


def find_alert(run: _Run, stores: Stores, reference: str) -> AlertInfo:
    """The alert named (or fingerprinted) ``reference``: Alertmanager's, else a pending or firing one of
    Prometheus. Several of one name: the newest, the others listed."""
    held = run.attempt(stores.alertmanager, stores.alertmanager.alerts, None)
    if held is not None:
        wanted = reference.lower()
        matches = [a for a in held if str(a.get("fingerprint", "")).lower() == wanted]
        if not matches and len(wanted) >= 4:
            matches = [a for a in held if str(a.get("fingerprint", "")).lower().startswith(wanted)]
        if not matches:
            matches = [a for a in held if (a.get("labels") or {}).get("alertname") == reference]
        if not matches:
            matches = [a for a in held if str((a.get("labels") or {}).get("alertname", "")).lower() == wanted]
        if matches:
            newest = _newest_first(matches, "startsAt")
            return _alert_from_alertmanager(newest[0], newest[1:])
    rules = run.attempt(stores.prometheus, stores.prometheus.alerts, None)
    if rules is not None:
        matches = [a for a in rules if (a.get("labels") or {}).get("alertname") == reference]
        if matches:
            if held is None:  # Prometheus alone says all that is needed: not a gap in the explanation
                problems = run.explanation.problems
                for problem in [p for p in problems if p.store == stores.alertmanager.name]:
                    problems.remove(problem)
                    run.explanation.notes.append(
                        f"the alert as Prometheus has it: {problem.store} at {problem.url} {problem.message}"
                    )
            newest = _newest_first(matches, "activeAt")
            return _alert_from_prometheus(newest[0], newest[1:])
    if held is None and rules is None:
        problem = run.explanation.problems[0]
        raise StoreUnavailable(problem.store, problem.url, problem.message, problem.hint)
    names = sorted({str((a.get("labels") or {}).get("alertname")) for a in [*(held or []), *(rules or [])]})
    active = f"Active alerts: {', '.join(names)}." if names else "No alert is active right now."
    raise NotFound(
        f"no active alert {reference!r} in {stores.alertmanager.name} ({stores.alertmanager.url}) or "
        f"{stores.prometheus.name} ({stores.prometheus.url})",
        f"{active} `otel-ops alerts list` shows them with their fingerprints; for an alert that has "
        "resolved, explain one of its traces (--trace ID) or errors (--fingerprint FP).",
    )


def explain_alert(
    reference: str,
    stores: Stores,
    *,
    window_seconds: float | None = None,
    lookback_seconds: float = ALERT_LOOKBACK_S,
    exemplars: int = DEFAULT_EXEMPLARS,
    log_limit: int = DEFAULT_LOG_LIMIT,
    now: float | None = None,
) -> Explanation:
    """An alert (name or Alertmanager fingerprint) with its exemplar traces, errors and links.

    The window ends now (or when the alert ended) and starts ``lookback_seconds`` before the alert did,
    or ``window_seconds`` before its end when given.
    """
    reference = arguments.alert_reference(reference)
    now = time.time() if now is None else now
    explanation = Explanation("alert", reference, Window(now - lookback_seconds, now), stores.describe())
    run = _Run(explanation)
    alert = find_alert(run, stores, reference)
    explanation.alert = alert
    end = alert.ends_at if alert.ends_at is not None and alert.ends_at < now else now
    start = end - window_seconds if window_seconds else min(alert.starts_at or end, end) - lookback_seconds
    window = explanation.window = Window(start, end)

    rule = run.attempt(stores.prometheus, lambda: stores.prometheus.alert_rule(alert.name), None)
    if rule:
        alert.expression = str(rule.get("query") or "") or None
    matchers = alert_matchers(alert.labels)
    if not matchers:
        explanation.notes.append(
            "the alert has no service or route label: exemplars and errors of every service"
        )
    found = run.attempt_list(
        stores.prometheus, lambda: stores.prometheus.exemplars(matchers, window), "exemplars"
    )
    explanation.exemplars = choose_exemplars(found, alert.labels, exemplars)
    explanation.errors = run.attempt_list(
        stores.prometheus, lambda: stores.prometheus.error_groups(matchers, window), "errors"
    )
    for group in explanation.errors[:3]:
        _add_log_summary(run, stores, group, window)

    candidates = _unique(
        [
            *(e.trace_id for e in explanation.exemplars),
            *(t for g in explanation.errors[:3] for t in g.trace_ids),
        ]
    )
    if not candidates and stores.prometheus.name not in run.down:
        explanation.notes.append(
            f"Prometheus has no exemplars of {selector(DURATION_METRICS, matchers)} in the window"
        )
    for trace_id in candidates[:MAX_TRACES_TRIED]:
        has = _add_trace(run, stores, trace_id, window, log_limit)
        if has or has is None:  # None: the trace store could not be asked; this trace's logs, then
            break
        explanation.links.clear()
    else:
        _forget_trace(explanation)
        if candidates and stores.traces.name not in run.down:
            explanation.problems.append(
                Problem(
                    stores.traces.name,
                    stores.traces.url,
                    f"has none of the {min(len(candidates), MAX_TRACES_TRIED)} exemplar traces tried",
                    "Spans arrive a second or two after a request ends: try again; a trace older than the "
                    "store's retention is gone.",
                )
            )
    for group in explanation.errors:
        _describe_from_trace(group, explanation)
    _add_alert_links(explanation, stores, alert, matchers, window)
    return explanation


def _add_log_summary(run: _Run, stores: Stores, group: ErrorGroup, window: Window) -> None:
    summary = run.attempt(
        stores.logs, lambda: stores.logs.fingerprint_summary(group.fingerprint, window), None, "errors"
    )
    if summary is None or not summary.count:
        return
    _merge_summary(group, summary)
    records = run.attempt_list(
        stores.logs, lambda: stores.logs.fingerprint_logs(group.fingerprint, window, 5), "errors"
    )
    group.trace_ids = _unique([*group.trace_ids, *(r.trace_id for r in records)])
    for record in records:
        group.message = group.message or record.exception_message


def _merge_summary(group: ErrorGroup, summary: LogSummary) -> None:
    group.log_records = summary.count
    firsts = [t for t in (group.first_seen, summary.first_seen) if t is not None]
    lasts = [t for t in (group.last_seen, summary.last_seen) if t is not None]
    group.first_seen = min(firsts) if firsts else None
    group.last_seen = max(lasts) if lasts else None


def _add_alert_links(
    explanation: Explanation, stores: Stores, alert: AlertInfo, matchers: Mapping[str, str], window: Window
) -> None:
    prometheus, links = stores.prometheus, explanation.links
    http_metric = selector("http_server_request_duration(_seconds)?_bucket", matchers)
    latency = f"histogram_quantile(0.99, sum by (le, http_route) (rate({http_metric}[5m])))"
    errors = _errors_rate_expr(matchers)
    if alert.expression:
        links.append(
            prometheus.graph_link(
                f"Prometheus: the alert's expression ({alert.name})", alert.expression, window
            )
        )
    links.append(prometheus.graph_link("Prometheus: p99 latency by route, with exemplars", latency, window))
    links.append(prometheus.graph_link("Prometheus: errors by fingerprint", errors, window))
    for group in explanation.errors[:1]:
        links += stores.logs.fingerprint_log_links(group.fingerprint, window)
    if stores.grafana_url:
        base = stores.grafana_url
        if alert.expression:
            links.append(
                grafana.metrics_link(
                    base, "Grafana Explore: the alert's expression", alert.expression, window
                )
            )
        links.append(
            grafana.metrics_link(base, "Grafana Explore: p99 latency with exemplars", latency, window)
        )
        links.append(grafana.metrics_link(base, "Grafana Explore: errors by fingerprint", errors, window))
