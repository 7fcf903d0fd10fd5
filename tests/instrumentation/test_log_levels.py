"""Which log records a service that never configured logging hands to otel-ops."""

from __future__ import annotations

from tests.instrumentation.conftest import run_python, service_env

SCRIPT = """
import logging, httpx, otel_ops
{before}
otel_ops.configure()
logging.getLogger("app").info("order placed")
httpx.get("{url}")
otel_ops.shutdown()
"""


def _captured(sink, before: str = "") -> list[tuple[str, str]]:
    url = sink.http_endpoint + "/v1/traces"
    run_python(SCRIPT.format(before=before, url=url), service_env(sink, OTEL_OPS_PROCESS_METRICS="false"))
    return [(r["scope"], r["body"]) for r in sink.logs()]


def test_app_info_lines_are_captured_but_httpx_request_lines_are_not(sink):
    captured = _captured(sink)
    assert ("app", "order placed") in captured
    assert not [body for scope, body in captured if scope == "httpx"], (
        "httpx's per-request INFO line duplicates the client span"
    )


def test_an_app_that_sets_httpx_level_gets_its_request_lines(sink):
    captured = _captured(sink, before='logging.getLogger("httpx").setLevel(logging.INFO)')
    assert [body for scope, body in captured if scope == "httpx" and body.startswith("HTTP Request:")]
