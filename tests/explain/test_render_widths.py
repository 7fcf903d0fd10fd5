"""``otel-ops explain`` reads on an 80-column terminal as on a wide one: ids whole, nothing cut off."""

from __future__ import annotations

import io
import time

import pytest
from rich.console import Console

from otel_ops.explain.model import (
    ErrorGroup,
    Exemplar,
    Explanation,
    Link,
    LogRecord,
    Span,
    SpanEvent,
    TraceView,
    Window,
)
from otel_ops.explain.render import render

TRACE_ID = "fb6d4e6e2ff3c4e85dd2ea56a2f769f0"
OTHER_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
FINGERPRINT = "86442dfb217b4f2a"
ERROR_TYPE = "otel_ops.demo.service.ToolExecutionError"
MESSAGE = "sandbox exited with status 137 in step 0: out of memory"
URL = f"http://127.0.0.1:16686/api/v3/traces/{TRACE_ID}?with=a&very=long&query=string&that=goes&on=and-on"


def _explanation(days_ago: float = 0) -> Explanation:
    """Everything at full length; ``days_ago`` moves it back (its times then show their dates)."""
    now = time.time() - days_ago * 86400
    start = int(now * 1e9)
    server = Span(
        TRACE_ID, "a" * 16, None, "POST /v1/agent/run", "server", "otel-ops-demo", start, start + 59_400_000,
        "error", attributes={"http.response.status_code": 500, "http.route": "/v1/agent/run"},
        events=[SpanEvent("exception", start, {"exception.type": ERROR_TYPE, "exception.message": MESSAGE})],
    )  # fmt: skip
    client = Span(
        TRACE_ID, "b" * 16, "a" * 16, "chat gpt-4o-mini", "client", "otel-ops-demo", start + 1,
        start + 54_100_000, "unset", attributes={"gen_ai.request.model": "gpt-4o-mini"},
    )  # fmt: skip
    log = LogRecord(
        start, "Exception in ASGI application", "ERROR", "otel-ops-demo", TRACE_ID,
        exception_type=ERROR_TYPE, exception_message=MESSAGE, fingerprint=FINGERPRINT,
    )  # fmt: skip
    slow = Exemplar(
        TRACE_ID, None, 1.457, now - 30, "http_server_request_duration_seconds",
        {"http_route": "/v1/agent/run", "http_response_status_code": "500"},
    )  # fmt: skip
    other = Exemplar(OTHER_TRACE_ID, None, 0.2, now - 20, "spans", {"span_name": "chat gpt-4o"})
    group = ErrorGroup(
        FINGERPRINT, "ToolExecutionError", ["otel-ops-demo"], 8, 8, now - 60, now, MESSAGE, OTHER_TRACE_ID
    )
    return Explanation(
        "fingerprint",
        FINGERPRINT,
        Window(now - 3600 - days_ago * 86400, now + days_ago * 86400),
        exemplars=[slow, other],
        trace_id=TRACE_ID,
        trace=TraceView(TRACE_ID, [server, client], "Jaeger"),
        logs=[log],
        related_logs=[log],
        errors=[group],
        links=[Link("Jaeger API: the trace as OTLP JSON", URL, "Jaeger")],
    )


def _rendered(width: int, days_ago: float = 0) -> str:
    console = Console(width=width, soft_wrap=True, file=io.StringIO(), color_system=None)  # as the CLI's
    render(_explanation(days_ago), console)
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("days_ago", [0, 3])
@pytest.mark.parametrize("width", [60, 80, 100, 250])
def test_ids_stay_whole_and_nothing_is_cut_off(width: int, days_ago: float) -> None:
    text = _rendered(width, days_ago)
    if days_ago:  # the window, the error's first and last seen and the log line's time, dated
        assert text.count(time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * 86400))) >= 4
    assert "…" not in text  # no cell, label or line cut short
    for whole in (TRACE_ID, OTHER_TRACE_ID, FINGERPRINT, URL, ERROR_TYPE):
        assert whole in text, whole
    too_long = [line for line in text.splitlines() if len(line.rstrip()) > width and URL not in line]
    assert not too_long, too_long
    assert "out of memory" in text.replace("\n", " ")


def test_a_wide_terminal_gets_the_tables_a_narrow_one_gets_lines() -> None:
    wide, narrow = _rendered(250), _rendered(80)
    assert "┃ trace id" in wide and "┃ fingerprint" in wide and "example trace " in wide
    assert "┃ trace id" not in narrow and "┃ fingerprint" not in narrow
    assert f"example trace {OTHER_TRACE_ID}" in narrow and "8 errors, 8 log records" in narrow


def test_dated_times_widen_the_tables_so_a_terminal_gets_them_only_with_room_for_the_type() -> None:
    today, dated = _rendered(140), _rendered(140, days_ago=3)
    assert "┃ fingerprint" in today and "┃ type " in today
    assert "┃ fingerprint" not in dated and f"{FINGERPRINT}  ToolExecutionError" in dated
    assert "┃ fingerprint" in _rendered(150, days_ago=3)
