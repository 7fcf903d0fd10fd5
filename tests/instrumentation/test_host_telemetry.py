"""What the host configured keeps working under otel-ops: its propagators, its span processors, FastAPI's
built-in telemetry with its own providers, and a start-up that imports nothing the program has not."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.instrumentation.conftest import BIN, Server, free_port, json_lines, service_env
from tests.instrumentation.test_http_service import server_spans, start_demo
from tests.support.otlp_sink import OtlpSink

REPO = Path(__file__).resolve().parents[2]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"


def run_under_otel_ops(sink: OtlpSink, servers: list[Server], module: str, **env: str) -> Server:
    port = free_port()
    command = [str(BIN / "otel-ops"), "run", "--", str(BIN / "uvicorn"), module, "--port", str(port)]
    server = Server(command, service_env(sink, **env), port, REPO)
    servers.append(server)
    return server


@pytest.mark.parametrize(
    ("propagators", "headers"),
    [
        ("b3", {"b3": f"{TRACE_ID}-{PARENT_SPAN_ID}-1"}),
        ("b3multi", {"X-B3-TraceId": TRACE_ID, "X-B3-SpanId": PARENT_SPAN_ID, "X-B3-Sampled": "1"}),
        (
            "tracecontext,baggage,b3multi",
            {"x-b3-traceid": TRACE_ID, "x-b3-spanid": PARENT_SPAN_ID, "x-b3-sampled": "1"},
        ),
    ],
)
def test_b3_headers_continue_the_incoming_trace(sink, servers, tmp_path, propagators, headers):
    server = start_demo(sink, servers, tmp_path, OTEL_PROPAGATORS=propagators)
    response = httpx.get(server.url + "/context", headers=headers)
    assert response.json()["trace_id"] == TRACE_ID
    span = sink.wait_for(lambda: server_spans(sink))[0]
    assert span["trace_id"] == TRACE_ID
    assert span["parent_span_id"] == PARENT_SPAN_ID


def test_repeated_baggage_headers_all_reach_the_request(sink, servers, tmp_path):
    server = start_demo(sink, servers, tmp_path)
    headers = [
        ("traceparent", f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"),
        ("baggage", "tenant=acme"),
        ("baggage", "region=eu,plan=pro"),
    ]
    context = httpx.get(server.url + "/context", headers=headers).json()
    assert context == {"trace_id": TRACE_ID, "baggage": {"tenant": "acme", "region": "eu", "plan": "pro"}}


def test_two_traceparent_headers_start_a_new_trace(sink, servers, tmp_path):
    # W3C Trace Context: repeated traceparent headers are invalid; the server does not pick one of them
    server = start_demo(sink, servers, tmp_path)
    other = "0af7651916cd43dd8448eb211c80319c"
    headers = [
        ("traceparent", f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"),
        ("traceparent", f"00-{other}-b7ad6b7169203331-01"),
    ]
    assert httpx.get(server.url + "/context", headers=headers).json()["trace_id"] not in (TRACE_ID, other)


def test_a_span_processor_the_app_adds_sees_every_server_span(sink, servers):
    server = run_under_otel_ops(sink, servers, "tests.instrumentation.processor_app:app")
    inside = httpx.get(server.url + "/items/7", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"})
    assert inside.json()["sdk_span"] is True  # the current span inside the request is an SDK span
    seen = httpx.get(server.url + "/seen").json()
    ended = [e for e in seen if e["event"] == "end" and e["kind"] == "SERVER"]
    assert [e["name"] for e in ended] == ["GET /items/{item_id}"]
    assert ended[0]["span_id"] == inside.json()["span_id"]
    assert ended[0]["trace_id"] == TRACE_ID
    assert ended[0]["attributes"]["http.route"] == "/items/{item_id}"
    assert ended[0]["attributes"]["request.id"] == inside.headers["x-request-id"]
    assert {"event": "start", "span_id": ended[0]["span_id"]} in seen

    # otel-ops still exports the same server span, once
    spans = sink.wait_for(lambda: len(server_spans(sink)) >= 2 and server_spans(sink))
    items = [s for s in spans if s["attributes"]["url.path"] == "/items/7"]
    assert [s["span_id"] for s in items] == [ended[0]["span_id"]]
    assert items[0]["parent_span_id"] == PARENT_SPAN_ID


def test_fastapi_telemetry_with_the_apps_own_provider_is_kept(sink, servers):
    server = run_under_otel_ops(sink, servers, "tests.instrumentation.native_telemetry_app:app")
    response = httpx.get(server.url + "/orders/3", headers={"x-request-id": "order-3"})
    assert response.json()["telemetry_data"] is True  # fastapi.telemetry.get_telemetry_data() works
    assert response.headers["x-request-id"] == "order-3"
    trace_id = response.json()["trace_id"]

    recorded = httpx.get(server.url + "/spans").json()
    request_spans = [s for s in recorded if s["trace_id"] == trace_id]
    assert [s["name"] for s in request_spans if s["kind"] == "SERVER"] == ["GET /orders/{order_id}"]
    assert {"fastapi.endpoint", "fastapi.dependencies"} <= {s["name"] for s in request_spans}

    # otel-ops' HTTP metrics link to FastAPI's trace; its log lines carry FastAPI's trace id
    def order_points() -> list[dict]:
        return [
            p
            for m in sink.metrics()
            if m["name"] == "http.server.request.duration"
            for p in m["points"]
            if p["attributes"].get("http.route") == "/orders/{order_id}"
        ]

    points = sink.wait_for(order_points)
    assert [e["trace_id"] for e in points[0]["exemplars"]] == [trace_id]
    record = sink.wait_for(lambda: [r for r in sink.logs() if r["body"] == "loading order 3"])[0]
    assert record["trace_id"] == trace_id
    assert record["attributes"]["request.id"] == "order-3"

    server.stop()  # flushes otel-ops' queues
    line = next(line for line in json_lines(server.output()) if line.get("message") == "loading order 3")
    assert line["trace_id"] == trace_id
    # FastAPI traced the request into the app's provider: otel-ops recorded no second server span
    assert [s for s in sink.spans() if s["attributes"].get("url.path") == "/orders/3"] == []


def test_a_mounted_app_gets_one_server_span_per_request(sink, servers):
    server = run_under_otel_ops(sink, servers, "tests.instrumentation.mounted_app:app")
    response = httpx.get(server.url + "/v1/items/4")
    assert response.json() == {"id": 4}
    assert len(response.headers.get_list("x-request-id")) == 1
    server.stop()  # flushes otel-ops' queues
    spans = [s for s in server_spans(sink) if s["attributes"]["url.path"] == "/v1/items/4"]
    assert len(spans) == 1, spans


STARTUP_PROBE = """
import json, sys
heavy = ("fastapi", "starlette", "pydantic", "httpx", "requests", "logfire", "yaml", "typer")
before = sorted(name for name in heavy if name in sys.modules)
import fastapi, httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
app = fastapi.FastAPI()
print(json.dumps({
    "imported_at_start": before,
    "fastapi_instrumented": getattr(app, "_otel_ops_instrumented", False),
    "httpx_instrumented": HTTPXClientInstrumentor().is_instrumented_by_opentelemetry,
}))
"""


def run_startup_probe(sink: OtlpSink, **env: str) -> dict[str, object]:
    result = subprocess.run(
        [str(BIN / "otel-ops"), "run", "--", sys.executable, "-c", STARTUP_PROBE],
        env=service_env(sink, **env),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(next(line for line in result.stdout.splitlines() if "imported_at_start" in line))


def test_otel_ops_run_imports_nothing_the_program_has_not(sink):
    probe = run_startup_probe(sink)
    assert probe == {"imported_at_start": [], "fastapi_instrumented": True, "httpx_instrumented": True}


def test_disabled_instrumentations_are_left_alone(sink):
    probe = run_startup_probe(sink, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="fastapi, httpx")
    assert probe == {"imported_at_start": [], "fastapi_instrumented": False, "httpx_instrumented": False}


def test_pytest_starts_under_otel_ops_run_with_warnings_as_errors(sink, tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    (tmp_path / "test_app.py").write_text(
        textwrap.dedent(
            """
            import asyncio

            import httpx
            from fastapi import FastAPI

            app = FastAPI()


            @app.get("/")
            def root():
                return "ok"


            async def call():
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
                    return (await c.get("/")).headers


            def test_root():
                assert getattr(app, "_otel_ops_instrumented", False)
                assert "x-request-id" in asyncio.run(call())
            """
        )
    )
    env = service_env(sink)
    env["PYTHONPATH"] = ""  # the test directory is rootdir; otel-ops comes from the installed package
    result = subprocess.run(
        [str(BIN / "otel-ops"), "run", "--", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
