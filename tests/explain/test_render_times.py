"""Times in ``otel-ops explain``'s output carry their date whenever it is not today's (UTC).

The user's case: ``--trace`` searches the last 7 days (plus a minute), and the header read
"window 19:49:53 UTC → 19:50:53 UTC", a minute, while ``--json`` said 2026-11-30 to 2026-12-07.
"""

from __future__ import annotations

import calendar
import io
import json
from typing import Any

import httpx
import pytest
from rich.console import Console

from otel_ops.explain.explainer import (
    TRACE_ERRORS_WINDOW_S,
    TRACE_LOG_MARGIN_S,
    TRACE_SEARCH_WINDOW_S,
    Stores,
    explain_trace,
)
from otel_ops.explain.model import (
    AlertInfo,
    ErrorGroup,
    Explanation,
    LogRecord,
    Span,
    Window,
)
from otel_ops.explain.render import render
from otel_ops.explain.stores import AlertmanagerStore, JaegerStore, PrometheusStore, VictoriaLogsStore

NOW = float(calendar.timegm((2026, 12, 7, 19, 49, 53)))  # 2026-12-07 19:49:53 UTC
DAY = 86400
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
FINGERPRINT = "86442dfb217b4f2a"


def rendered(explanation: Explanation, width: int = 250, now: float = NOW) -> str:
    console = Console(width=width, soft_wrap=True, file=io.StringIO(), color_system=None)
    render(explanation, console, now=now)
    return console.file.getvalue()  # type: ignore[attr-defined]


def header(explanation: Explanation) -> str:
    return rendered(explanation).splitlines()[0]


def test_a_window_of_seven_days_shows_its_dates() -> None:
    week = Explanation("trace", TRACE_ID, Window(NOW - 7 * DAY, NOW + 60))
    assert header(week) == f"Trace {TRACE_ID}  window 2026-11-30 19:49 UTC → 2026-12-07 19:50 UTC"


def test_a_window_within_today_shows_times_alone() -> None:
    minute = Explanation("trace", TRACE_ID, Window(NOW - 60, NOW))
    assert header(minute) == f"Trace {TRACE_ID}  window 19:48:53 UTC → 19:49:53 UTC"
    today = Explanation("fingerprint", FINGERPRINT, Window(NOW - 3600, NOW))
    assert header(today) == f"Fingerprint {FINGERPRINT}  window 18:49:53 UTC → 19:49:53 UTC"


@pytest.mark.parametrize(
    ("window", "shown"),
    [
        # Within one day, but not today: the date, and seconds for a window under an hour.
        (Window(NOW - DAY - 600, NOW - DAY), "2026-12-06 19:39:53 UTC → 2026-12-06 19:49:53 UTC"),
        # Across midnight: both dates, though shorter than a day.
        (
            Window(NOW - 20 * 3600, NOW),
            "2026-12-06 23:49 UTC → 2026-12-07 19:49 UTC",
        ),
    ],
)
def test_a_window_not_within_today_shows_its_dates(window: Window, shown: str) -> None:
    assert header(Explanation("trace", TRACE_ID, window)).endswith(f"window {shown}")


def test_the_alert_panel_and_the_error_table_date_a_window_of_days() -> None:
    alert = AlertInfo("CheckoutErrors", None, "firing", {"alertname": "CheckoutErrors"}, {}, NOW - 3 * DAY,
                      None, "Prometheus")  # fmt: skip
    group = ErrorGroup(FINGERPRINT, "PaymentDeclined", ["checkout"], 3, 3, NOW - 3 * DAY, NOW - 600)
    explanation = Explanation(
        "alert", "CheckoutErrors", Window(NOW - 3 * DAY - 900, NOW), alert=alert, errors=[group]
    )
    text = rendered(explanation)
    assert "since 2026-12-04 19:49 UTC (3d ago)" in text
    assert "window: 2026-12-04 19:34 UTC → 2026-12-07 19:49 UTC (3 d)" in text
    assert "Error fingerprints, 2026-12-04 19:34 UTC → 2026-12-07 19:49 UTC" in text
    row = next(line for line in text.splitlines() if FINGERPRINT in line)
    assert "2026-12-04 19:49 UTC" in row and "19:39:53 UTC" in row  # first seen days ago, last today


def test_log_lines_of_another_day_carry_their_date() -> None:
    records = [
        LogRecord(int((NOW - 2 * DAY) * 1e9), "checkout started", "INFO", "checkout", TRACE_ID),
        LogRecord(int((NOW - 5) * 1e9), "checkout retried", "INFO", "checkout", TRACE_ID),
    ]
    text = rendered(
        Explanation("trace", TRACE_ID, Window(NOW - 7 * DAY, NOW), trace_id=TRACE_ID, logs=records)
    )
    assert "2026-12-05 19:49:53.000" in text and " 19:49:48.000 " in text


def _span(start: float, seconds: float) -> Span:
    begin = int(start * 1e9)
    return Span(TRACE_ID, "a" * 16, None, "POST /checkout", "server", "checkout", begin,
                begin + int(seconds * 1e9), "ok")  # fmt: skip


def test_a_found_trace_counts_errors_over_its_hour_and_shows_where_its_logs_were_searched() -> None:
    """The header and ``window`` show the period counted in (7 days while the trace's spans are unknown,
    the hour before it ended once they are); its logs are searched around it, which ``logs_window`` and
    the logs section say."""
    trace_start = NOW - 2 * DAY

    class JaegerHolding(JaegerStore):
        def trace(self, trace_id: str) -> list[Span] | None:
            return [_span(trace_start, 0.5)]

    class LogsHolding(VictoriaLogsStore):
        def trace_logs(self, trace_id: str, window: Window, limit: int) -> list[LogRecord]:
            return []

    with httpx.Client() as http:
        stores = Stores(
            JaegerHolding("http://127.0.0.1:9", http),
            LogsHolding("http://127.0.0.1:9", http),
            PrometheusStore("http://127.0.0.1:9", http),
            AlertmanagerStore("http://127.0.0.1:9", http),
        )
        explanation = explain_trace(TRACE_ID, stores, now=NOW)
    out: dict[str, Any] = json.loads(json.dumps(explanation.to_dict()))
    end = trace_start + 0.5
    assert explanation.window == Window(end - TRACE_ERRORS_WINDOW_S, end + 60)
    assert explanation.logs_window == Window(trace_start - TRACE_LOG_MARGIN_S, end + TRACE_LOG_MARGIN_S)
    assert out["logs_window"]["seconds"] == pytest.approx(2 * TRACE_LOG_MARGIN_S + 0.5)
    assert out["unanswered"] == {} and out["complete"] is True
    text = rendered(explanation)
    assert text.splitlines()[0] == f"Trace {TRACE_ID}  window 2026-12-05 18:49 UTC → 2026-12-05 19:50 UTC"
    assert (
        f"Logs of trace {TRACE_ID}, 2026-12-05 19:34:53 UTC → 2026-12-05 20:04:53 UTC: no log records" in text
    )
    assert TRACE_SEARCH_WINDOW_S == 7 * DAY  # the window while the spans are unknown (the user's case)
