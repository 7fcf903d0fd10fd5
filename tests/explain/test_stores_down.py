"""A store that cannot be reached leaves its sections unknown, and ``otel-ops explain`` says so there.

Where a store could not be asked, the section reads "could not ask the trace store (Jaeger at URL): is
not reachable (...)", never that the store has nothing ("not in the trace store", "no log records"); the
JSON lists those sections under ``unanswered``. Stores that are down are the real adapters pointed at
closed loopback ports; stores that answer are the real adapters with their queries answered in memory.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from otel_ops.cli import app
from otel_ops.explain.explainer import Stores, explain_alert, explain_fingerprint, explain_trace
from otel_ops.explain.model import ErrorGroup, Exemplar, Explanation, LogRecord, Span, Window
from otel_ops.explain.render import render
from otel_ops.explain.stores import (
    AlertmanagerStore,
    JaegerStore,
    LogSummary,
    PrometheusStore,
    VictoriaLogsStore,
)
from tests.support.ports import free_port

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
FINGERPRINT = "86442dfb217b4f2a"
SERVICE = "checkout"
ENV = {"COLUMNS": "250", "OTEL_OPS_STATE_DIR": "/nonexistent-otel-ops-state"}
#: What a section must never say of a store that could not be asked.
AS_FACT = ("is not in the trace store", "no log records", "none of the traces with this error")


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def _log(trace_id: str, message: str, at: float, fingerprint: str | None = None) -> LogRecord:
    return LogRecord(
        int(at * 1e9), message, "ERROR" if fingerprint else "INFO", SERVICE, trace_id,
        exception_type="checkout_app.PaymentDeclined" if fingerprint else None,
        exception_message="card declined" if fingerprint else None, fingerprint=fingerprint,
    )  # fmt: skip


class LogsAnswering(VictoriaLogsStore):
    """VictoriaLogs holding ``records`` (its links as the real adapter makes them)."""

    def __init__(self, http: httpx.Client, records: list[LogRecord]) -> None:
        super().__init__("http://127.0.0.1:9", http)
        self.records = records

    def trace_logs(self, trace_id: str, window: Window, limit: int) -> list[LogRecord]:
        return [r for r in self.records if r.trace_id == trace_id][:limit]

    def fingerprint_logs(self, fingerprint: str, window: Window, limit: int) -> list[LogRecord]:
        return [r for r in self.records if r.fingerprint == fingerprint][:limit]

    def fingerprint_summary(self, fingerprint: str, window: Window) -> LogSummary:
        carrying = [r for r in self.records if r.fingerprint == fingerprint]
        times = [r.time_unix_nano / 1e9 for r in carrying]
        return LogSummary(len(carrying), min(times, default=None), max(times, default=None), [SERVICE])


class PrometheusAnswering(PrometheusStore):
    """Prometheus with ``exemplars`` and error counts (its links as the real adapter makes them)."""

    def __init__(self, http: httpx.Client, exemplars: list[Exemplar], groups: list[ErrorGroup]) -> None:
        super().__init__("http://127.0.0.1:9", http)
        self.found, self.groups = exemplars, groups

    def alerts(self) -> list[dict[str, Any]]:
        return []

    def alert_rule(self, name: str) -> dict[str, Any] | None:
        return None

    def exemplars(self, matchers: Mapping[str, str], window: Window) -> list[Exemplar]:
        return self.found

    def error_groups(
        self, matchers: Mapping[str, str], window: Window, fingerprints: Sequence[str] = ()
    ) -> list[ErrorGroup]:
        return [g for g in self.groups if not fingerprints or g.fingerprint in fingerprints]


class AlertmanagerAnswering(AlertmanagerStore):
    def __init__(self, http: httpx.Client, alerts: list[dict[str, Any]]) -> None:
        super().__init__("http://127.0.0.1:9", http)
        self.held = alerts

    def alerts(self) -> list[dict[str, Any]]:
        return self.held


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2) as client:
        yield client


def stores(
    http: httpx.Client,
    *,
    logs: list[LogRecord] | None = None,
    exemplars: list[Exemplar] | None = None,
    errors: list[ErrorGroup] | None = None,
    alerts: list[dict[str, Any]] | None = None,
) -> Stores:
    """Jaeger down; each other store down unless given what it holds."""
    return Stores(
        traces=JaegerStore(closed_url(), http),
        logs=VictoriaLogsStore(closed_url(), http) if logs is None else LogsAnswering(http, logs),
        prometheus=(
            PrometheusStore(closed_url(), http)
            if exemplars is None and errors is None
            else PrometheusAnswering(http, exemplars or [], errors or [])
        ),
        alertmanager=(
            AlertmanagerStore(closed_url(), http) if alerts is None else AlertmanagerAnswering(http, alerts)
        ),
    )


def rendered(explanation: Explanation, width: int = 250) -> str:
    console = Console(width=width, soft_wrap=True, file=io.StringIO(), color_system=None)
    render(explanation, console)
    return " ".join(console.file.getvalue().split())  # type: ignore[attr-defined]


def as_json(explanation: Explanation) -> dict[str, Any]:
    return dict(json.loads(json.dumps(explanation.to_dict(), default=str)))


def could_not_ask(role: str, store: Any) -> str:
    return f"could not ask the {role} ({store.name} at {store.url}): is not reachable"


def unanswered(out: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {k: [(p["store"], p["url"]) for p in v] for k, v in out["unanswered"].items()}


def test_a_trace_with_both_stores_down_says_they_could_not_be_asked(http: httpx.Client) -> None:
    down = stores(http)
    explanation = explain_trace(TRACE_ID, down)
    text = rendered(explanation)
    assert f"Trace {TRACE_ID}: {could_not_ask('trace store', down.traces)}" in text
    assert f"Logs of trace {TRACE_ID}: {could_not_ask('log store', down.logs)}" in text
    assert not [fact for fact in AS_FACT if fact in text]
    assert f"incomplete: Jaeger at {down.traces.url}: is not reachable" in text  # the problems stay
    out = as_json(explanation)
    assert out["complete"] is False and out["trace"] is None and out["logs"] == []
    assert unanswered(out) == {
        "trace": [("Jaeger", down.traces.url)],
        "logs": [("VictoriaLogs", down.logs.url)],
    }
    assert out["unanswered"]["trace"][0]["message"].startswith("is not reachable")
    assert [p["store"] for p in out["problems"]] == ["Jaeger", "VictoriaLogs"]


def test_a_trace_store_down_shows_the_logs_and_the_errors_prometheus_could_not_count(
    http: httpx.Client,
) -> None:
    now = time.time()
    logs = [_log(TRACE_ID, "checkout started", now - 2), _log(TRACE_ID, "declined", now - 1, FINGERPRINT)]
    down = stores(http, logs=logs)
    explanation = explain_trace(TRACE_ID, down)
    text = rendered(explanation)
    assert f"Trace {TRACE_ID}: {could_not_ask('trace store', down.traces)}" in text
    assert f"Logs of trace {TRACE_ID}" in text and "checkout started" in text
    assert could_not_ask("metrics store", down.prometheus) in text  # the error's counts are unknown
    assert FINGERPRINT in text and not [fact for fact in AS_FACT if fact in text]
    out = as_json(explanation)
    assert unanswered(out) == {
        "trace": [("Jaeger", down.traces.url)],
        "errors": [("Prometheus", down.prometheus.url)],
    }
    assert [e["count"] for e in out["errors"]] == [None]  # unknown, not zero


def test_a_fingerprint_with_its_trace_store_down_names_the_trace_it_could_not_fetch(
    http: httpx.Client,
) -> None:
    now = time.time()
    logs = [_log(TRACE_ID, "declined", now - 60, FINGERPRINT)]
    down = stores(http, logs=logs, errors=[ErrorGroup(FINGERPRINT, count=3, services=[SERVICE])])
    explanation = explain_fingerprint(FINGERPRINT, down)
    text = rendered(explanation)
    # Before: "none of the traces with this error is in Jaeger (tried 1)", though Jaeger was never asked.
    assert f"Trace {TRACE_ID}: {could_not_ask('trace store', down.traces)}" in text
    assert not [fact for fact in AS_FACT if fact in text]
    out = as_json(explanation)
    assert out["trace_id"] == TRACE_ID and out["trace"] is None
    assert [r["message"] for r in out["logs"]] == ["declined"]
    assert set(unanswered(out)) == {"trace", "errors"}  # the trace search by fingerprint, too
    assert not any("none of the traces" in note for note in out["notes"])


def test_a_fingerprint_with_every_store_down_says_so_in_each_section(http: httpx.Client) -> None:
    down = stores(http)
    explanation = explain_fingerprint(FINGERPRINT, down)
    text = rendered(explanation)
    assert f"Recent log records with this error: {could_not_ask('log store', down.logs)}" in text
    for role, store in (("metrics store", down.prometheus), ("log store", down.logs)):
        assert could_not_ask(role, store) in text
    assert not [fact for fact in AS_FACT if fact in text]
    out = as_json(explanation)
    assert unanswered(out) == {
        "errors": [
            ("Prometheus", down.prometheus.url),
            ("VictoriaLogs", down.logs.url),
            ("Jaeger", down.traces.url),
        ],
        "fingerprint_logs": [("VictoriaLogs", down.logs.url)],
    }


def _alert(now: float) -> dict[str, Any]:
    return {
        "fingerprint": "a1b2c3d4e5f60718",
        "labels": {"alertname": "CheckoutErrors", "service_name": SERVICE},
        "annotations": {"summary": "checkout failing"},
        "status": {"state": "active"},
        "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 300)),
    }


def test_an_alert_with_prometheus_down_says_exemplars_and_errors_could_not_be_asked(
    http: httpx.Client,
) -> None:
    down = stores(http, alerts=[_alert(time.time())])
    explanation = explain_alert("CheckoutErrors", down)
    text = rendered(explanation)
    reason = could_not_ask("metrics store", down.prometheus)
    assert f"Exemplar traces of the alerted series: {reason}" in text
    assert "Error fingerprints, " in text and reason in text.split("Error fingerprints, ", 1)[1]
    out = as_json(explanation)
    assert unanswered(out) == {
        "exemplars": [("Prometheus", down.prometheus.url)],
        "errors": [("Prometheus", down.prometheus.url)],
    }


def test_an_alert_with_its_trace_store_down_keeps_the_first_exemplar_and_its_logs(
    http: httpx.Client,
) -> None:
    now = time.time()
    series = {"service_name": SERVICE, "http_route": "/checkout", "http_response_status_code": "500"}
    exemplars = [
        Exemplar(TRACE_ID, None, 0.2, now - 30, "http_server_request_duration_seconds_bucket", series),
        Exemplar(OTHER_TRACE_ID, None, 0.1, now - 40, "http_server_request_duration_seconds_bucket", series),
    ]
    logs = [_log(TRACE_ID, "checkout started", now - 31)]
    down = stores(http, logs=logs, exemplars=exemplars, alerts=[_alert(now)])
    explanation = explain_alert("CheckoutErrors", down)
    text = rendered(explanation)
    # Before: no trace at all and the logs of the last exemplar tried under "Logs of trace " (no id).
    assert f"Trace {TRACE_ID}: {could_not_ask('trace store', down.traces)}" in text
    assert f"Logs of trace {TRACE_ID}" in text and "checkout started" in text
    out = as_json(explanation)
    assert out["trace_id"] == TRACE_ID and [r["trace_id"] for r in out["logs"]] == [TRACE_ID]
    assert unanswered(out) == {"trace": [("Jaeger", down.traces.url)]}


def test_exemplars_not_in_an_answering_trace_store_explain_no_trace_and_show_no_logs(
    http: httpx.Client,
) -> None:
    now = time.time()
    series = {"service_name": SERVICE, "http_route": "/checkout", "http_response_status_code": "500"}
    exemplars = [Exemplar(TRACE_ID, None, 0.2, now - 30, "http_server_request_duration_seconds", series)]

    class JaegerWithout(JaegerStore):
        def trace(self, trace_id: str) -> list[Span] | None:
            return None

    held = stores(http, logs=[_log(TRACE_ID, "checkout started", now - 31)], exemplars=exemplars)
    held.alertmanager = AlertmanagerAnswering(http, [_alert(now)])
    held.traces = JaegerWithout("http://127.0.0.1:9", http)
    out = as_json(explain_alert("CheckoutErrors", held))
    assert out["trace_id"] is None and out["logs"] == [] and out["unanswered"] == {}
    assert [p["message"] for p in out["problems"]] == ["has none of the 1 exemplar traces tried"]


# --- the command, as the user ran it -----------------------------------------------------------------------


def explain(*args: str) -> Result:
    return CliRunner().invoke(app, ["explain", *args], env=ENV)


def test_the_command_with_jaeger_and_victorialogs_down() -> None:
    jaeger, victorialogs = closed_url(), closed_url()
    flags = ["--jaeger-url", jaeger, "--victorialogs-url", victorialogs, "--prometheus-url", closed_url()]
    result = explain("--trace", TRACE_ID, *flags)
    assert result.exit_code == 1  # incomplete, as before
    text = " ".join(result.stdout.split())
    assert f"could not ask the trace store (Jaeger at {jaeger}): is not reachable" in text
    assert f"Logs of trace {TRACE_ID}: could not ask the log store (VictoriaLogs at {victorialogs})" in text
    assert not [fact for fact in AS_FACT if fact in text]
    # The header: the 7 days searched, with their dates (not "19:49:53 UTC → 19:50:53 UTC").
    week = [time.strftime("%Y-%m-%d", time.gmtime(time.time() - days * 86400)) for days in (7, 0)]
    assert f"window {week[0]} " in text and f" → {week[1]} " in text
    as_json_result = explain("--trace", TRACE_ID, *flags, "--json")
    assert as_json_result.exit_code == 1
    out = json.loads(as_json_result.stdout)
    assert unanswered(out) == {"trace": [("Jaeger", jaeger)], "logs": [("VictoriaLogs", victorialogs)]}
    assert out["window"] == out["logs_window"] and out["window"]["seconds"] == 7 * 86400 + 60
