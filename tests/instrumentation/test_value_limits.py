"""Long values are cut before they are queued: log bodies at ``OTEL_OPS_LOG_BODY_LENGTH_LIMIT``, attribute
values at the ``OTEL_*ATTRIBUTE_VALUE_LENGTH_LIMIT`` (otel-ops' default 8192); a stack trace keeps its end,
where the error is; a secret that straddles a cut is redacted whole, not left half there, also in the
application's own spans, whose values the OpenTelemetry SDK cuts as they are set."""

from __future__ import annotations

from tests.instrumentation.conftest import run_python, service_env

TOKEN = "ghp_R8mK2xQ9vL4nT7wZ1cF5hJ3pS6yB0dG8aE2u"

SCRIPT = f"""
import logging
import otel_ops
from fastapi import FastAPI
from opentelemetry import trace
from fastapi.testclient import TestClient

app = FastAPI()
log = logging.getLogger("limits")


def fail(n):
    if n == 0:
        raise KeyError("root cause")
    try:
        fail(n - 1)
    except Exception as exc:
        raise RuntimeError(f"level {{n}} failed " + "c" * 100) from exc


@app.get("/work")
def work(q: str) -> dict:
    log.info("x" * 16370 + " {TOKEN} " + "y" * 100000, extra={{"payload": "p" * 8185 + " {TOKEN}"}})
    try:
        fail(80)  # a chain of 80 exceptions: its stack trace is far longer than the limit
    except RuntimeError:
        log.exception("deep failure")
    with trace.get_tracer("limits").start_as_current_span("sdk-work") as span:
        span.set_attribute("payload", "p" * 8160 + " {TOKEN}")  # cut by the SDK inside the token
        span.add_event("note", {{"payload": "e" * 8170 + " {TOKEN}"}})
    return {{}}


otel_ops.configure(app=app)
with TestClient(app) as client:
    query = "a" * 8170 + "&t={TOKEN}&" + "b" * 20000  # encoded, the token straddles the cut at 8192
    response = client.get("/work", params={{"q": query}}, headers={{"user-agent": "u" * 50000}})
    assert response.status_code == 200
otel_ops.shutdown()
"""


def test_long_values_are_cut_before_queueing_and_no_secret_is_left_half_there(sink):
    run_python(SCRIPT, service_env(sink, OTEL_OPS_LOG_CONSOLE="none", OTEL_METRICS_EXPORTER="none"))
    records = {r["body"][:5]: r for r in sink.logs() if r["scope"] == "limits"}
    line, failure = records["xxxxx"], records["deep "]
    assert len(line["body"]) == 16384 and line["body"].startswith("x" * 16370)
    assert "ghp_" not in line["body"] and "[REDACTED]" in line["body"]
    assert len(line["attributes"]["payload"]) == 8192 and "ghp_" not in line["attributes"]["payload"]
    stacktrace = failure["attributes"]["exception.stacktrace"]
    assert len(stacktrace) <= 8192 and stacktrace.startswith("[") and "characters cut]" in stacktrace
    assert stacktrace.endswith("RuntimeError: level 80 failed " + "c" * 100)  # the outermost error

    (span,) = [s for s in sink.spans() if s["name"] == "GET /work"]
    query, agent = span["attributes"]["url.query"], span["attributes"]["user_agent.original"]
    assert len(query) <= 8192 and "ghp_" not in query and "[REDACTED]" in query
    assert len(agent) == 8192

    (sdk_span,) = [s for s in sink.spans() if s["name"] == "sdk-work"]
    payload = sdk_span["attributes"]["payload"]
    assert payload.startswith("p" * 8160) and len(payload) <= 8192
    assert "ghp_" not in payload and payload.endswith("[REDACTED]")
    event_payload = sdk_span["events"][0]["attributes"]["payload"]
    assert event_payload.startswith("e" * 8170) and "ghp_" not in event_payload
    assert event_payload.endswith("[REDACTED]")
