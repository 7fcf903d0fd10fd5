"""Zero leaks: a FastAPI app under uvicorn puts every seeded secret (``secrets_corpus``) into log messages,
log attributes, exceptions, stack traces, span attributes, events and statuses, and receives more in request
headers and query strings; none of them may appear in any byte the collector receives (OTLP/HTTP and
OTLP/gRPC), nor in the process's stdout and stderr (JSON or text log lines, console exporters)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from otel_ops.instrumentation._scrub import REDACTED
from tests.instrumentation.conftest import free_port
from tests.instrumentation.secrets_corpus import (
    HARDCODED_KEY,
    HEADER_SECRETS,
    QUERY_SECRETS,
    SECRETS,
    leaks,
    secret_values,
)
from tests.support.otlp_sink import OtlpSink
from tests.support.services import uvicorn_app

REPO = Path(__file__).resolve().parents[2]
APP = "tests.instrumentation.secrets_app:app"
SERVER_KIND = 2


def _exercise(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        for path in ("/logs", "/exceptions", "/spans"):
            assert client.get(path).status_code == 200, path
        for index in range(len(SECRETS)):
            assert client.get(f"/llm/{index}").status_code == 200
    for index in range(len(SECRETS)):  # uvicorn closes the connection after an unhandled error
        with httpx.Client(base_url=base, timeout=30) as client:
            assert client.get(f"/crash/{index}").status_code == 500
    with httpx.Client(base_url=base, timeout=30) as client:
        headers = {name: value for name, value, _ in HEADER_SECRETS}
        response = client.get("/echo", params=dict(QUERY_SECRETS), headers=headers)
        assert response.status_code == 200
        # secrets in the path: url.path of a routed and an unrouted request
        assert client.get(f"/reset/{SECRETS[5].value}", headers=headers).status_code == 200
        assert client.get(f"/echo/{SECRETS[0].value}", headers=headers).status_code == 404


def _received_bytes(sink: OtlpSink) -> bytes:
    """Every export request as the bytes of its message, and its headers."""
    parts = []
    for request in list(sink.requests):
        parts.append(request.message.SerializeToString())
        parts.append(repr(request.headers).encode())
    return b"\n".join(parts)


def _where(haystack: str, value: str) -> str:
    at = haystack.find(value)
    return haystack[max(0, at - 160) : at + len(value) + 40]


@pytest.mark.parametrize(
    ("protocol", "console", "own_span_processor"),
    [("http/protobuf", "json", False), ("grpc", "text", False), ("http/protobuf", "json", True)],
    ids=["otlp-http+json-lines", "otlp-grpc+text-lines", "sdk-server-spans"],
)
def test_no_seeded_secret_leaves_the_process(sink, tmp_path, protocol, console, own_span_processor):
    assert HARDCODED_KEY in (REPO / "tests/instrumentation/secrets_app.py").read_text()
    port = free_port()
    endpoint = sink.grpc_endpoint if protocol == "grpc" else sink.http_endpoint
    log = tmp_path / "secrets-app.log"
    service = uvicorn_app(APP, REPO, port, "secrets-svc", endpoint, log, export_delay_ms=200)
    service.cwd = REPO
    service.env = {
        **service.env,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_TRACES_EXPORTER": "otlp,console",
        "OTEL_LOGS_EXPORTER": "otlp,console",
        "OTEL_OPS_LOG_CONSOLE": console,
        "OTEL_OPS_LOG_LEVEL": "info",
        "SECRETS_APP_OWN_SPAN_PROCESSOR": "1" if own_span_processor else "0",
    }
    service.start()
    try:
        service.wait_ready(30)
        _exercise(f"http://127.0.0.1:{port}")
    finally:
        service.stop(timeout=20)  # SIGTERM: the lifespan's flush delivers everything queued

    received = _received_bytes(sink).decode("utf-8", "replace")
    output = log.read_text(errors="replace")
    assert '"resourceSpans"' in output and '"resourceLogs"' in output  # the console exporters printed
    found = {"collector": leaks(received), "stdout/stderr": leaks(output)}
    report = {
        where: {value: _where(text, value) for value in values}
        for (where, values), text in zip(found.items(), (received, output), strict=True)
        if values
    }
    assert not report, f"secrets leaked: {report}"
    assert len(secret_values()) == len(set(secret_values()))

    # and everything the app wrote arrived, redacted: the absence of secrets above means something
    logs = sink.logs()
    bodies = [str(r["body"]) for r in logs]
    for index in range(len(SECRETS)):
        for marker in (f"[msg-{index}]", f"[arg-{index}]", f"[extra-{index}]", f"[logexc-{index}]"):
            assert any(marker in body for body in bodies), f"no log record {marker} arrived"
    assert any("Exception in ASGI application" in body for body in bodies)
    assert sum("[echo]" in body for body in bodies) == 3
    assert any(REDACTED in body for body in bodies)
    spans = sink.spans()
    app_spans = [s for s in spans if s["name"].startswith("span-")]
    assert len(app_spans) == len(SECRETS)
    assert all(len(s["events"]) == 2 and REDACTED in s["status_message"] for s in app_spans)
    recorded = [s for s in spans if s["name"].startswith("recorded-")]
    assert len(recorded) == len(SECRETS)
    assert all(s["events"] and "UpstreamError: [exc-" in s["status_message"] for s in recorded)
    (server_span,) = [s for s in spans if s["name"] == "GET /spans"]
    assert len(server_span["events"]) == 3 * len(SECRETS)
    named = [s for s in spans if s["name"].startswith("named-")]
    assert len(named) == len(SECRETS) and all(len(s["events"]) == 1 for s in named)
    crashed = [s for s in spans if s["kind"] == SERVER_KIND and s["name"] == "GET /crash/{index}"]
    assert len(crashed) == len(SECRETS) and all(s["events"] for s in crashed)
    llm_spans = [s for s in spans if s["name"] == "chat gpt-4o-mini"]
    assert len(llm_spans) == len(SECRETS) and all(s["events"] for s in llm_spans)
