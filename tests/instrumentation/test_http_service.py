"""A FastAPI service under uvicorn, instrumented with ``configure(app=...)``: what reaches the collector."""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import httpx
import pytest

from tests.instrumentation.conftest import Server, free_port, json_lines, service_env
from tests.support.otlp_sink import OtlpSink

SERVER_KIND = 2
CLIENT_KIND = 3


def start_demo(sink: OtlpSink, servers: list[Server], tmp_path: Path, **env: str) -> Server:
    port = free_port()
    server = Server(
        [sys.executable, "-m", "uvicorn", "tests.instrumentation.demo_app:app", "--port", str(port)],
        service_env(sink, **env),
        port,
        Path(__file__).resolve().parents[2],
    )
    servers.append(server)
    return server


def server_spans(sink: OtlpSink) -> list[dict]:
    return [s for s in sink.spans() if s["kind"] == SERVER_KIND]


def test_one_server_span_per_request_with_http_semconv(sink, servers, tmp_path):
    server = start_demo(sink, servers, tmp_path)
    assert httpx.get(server.url + "/items/42?q=1").status_code == 200
    spans = sink.wait_for(lambda: server_spans(sink))
    assert len(spans) == 1, [s["name"] for s in sink.spans()]
    span = spans[0]
    assert span["name"] == "GET /items/{item_id}"
    attributes = span["attributes"]
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.route"] == "/items/{item_id}"
    assert attributes["http.response.status_code"] == 200
    assert attributes["url.path"] == "/items/42"
    assert attributes["url.query"] == "q=1"
    assert span["resource"]["service.name"] == "test-svc"
    # no ASGI receive/send child spans
    assert not [s for s in sink.spans() if s["parent_span_id"] == span["span_id"]]


def test_health_paths_are_not_traced(sink, servers, tmp_path):
    server = start_demo(sink, servers, tmp_path)
    for _ in range(3):
        httpx.get(server.url + "/health")
    httpx.get(server.url + "/items/1")
    sink.wait_for(lambda: server_spans(sink))
    assert {s["attributes"]["url.path"] for s in server_spans(sink)} == {"/items/1"}


def test_incoming_traceparent_is_continued(sink, servers, tmp_path):
    server = start_demo(sink, servers, tmp_path)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01", "baggage": "tenant=acme"}
    httpx.get(server.url + "/items/2", headers=headers)
    span = sink.wait_for(lambda: server_spans(sink))[0]
    assert span["trace_id"] == trace_id
    assert span["parent_span_id"] == "00f067aa0ba902b7"


def test_outgoing_httpx_calls_carry_traceparent(sink, servers, tmp_path):
    seen: list[dict[str, str]] = []

    class Downstream(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            return

    downstream = ThreadingHTTPServer(("127.0.0.1", 0), Downstream)
    Thread(target=downstream.serve_forever, daemon=True).start()
    try:
        server = start_demo(
            sink, servers, tmp_path, DOWNSTREAM_URL=f"http://127.0.0.1:{downstream.server_address[1]}/"
        )
        assert httpx.get(server.url + "/call-out").json() == {"downstream": "ok"}
        span = sink.wait_for(lambda: server_spans(sink))[0]
    finally:
        downstream.shutdown()
    assert seen, "downstream was not called"
    traceparent = seen[0]["traceparent"]
    assert traceparent.split("-")[1] == span["trace_id"]
    client = sink.wait_for(lambda: [s for s in sink.spans() if s["kind"] == CLIENT_KIND])
    assert client[0]["trace_id"] == span["trace_id"]


def test_request_id_is_echoed_set_on_span_and_logged(sink, servers, tmp_path):
    server = start_demo(sink, servers, tmp_path)
    given = httpx.get(server.url + "/items/5", headers={"X-Request-ID": "req-abc-123"})
    assert given.headers["x-request-id"] == "req-abc-123"
    generated = httpx.get(server.url + "/items/6").headers["x-request-id"]
    assert len(generated) == 32 and generated != "req-abc-123"

    spans = sink.wait_for(lambda: len(server_spans(sink)) >= 2 and server_spans(sink))
    by_path = {s["attributes"]["url.path"]: s for s in spans}
    assert by_path["/items/5"]["attributes"]["request.id"] == "req-abc-123"
    assert by_path["/items/6"]["attributes"]["request.id"] == generated

    logs = sink.wait_for(lambda: [r for r in sink.logs() if r["scope"] == "demo"])
    record = next(r for r in logs if r["body"] == "loading item 5")
    assert record["trace_id"] == by_path["/items/5"]["trace_id"]
    assert record["span_id"] == by_path["/items/5"]["span_id"]
    assert record["attributes"]["request.id"] == "req-abc-123"
    assert record["attributes"]["item.id"] == 5
    assert record["severity_text"] == "INFO"

    server.stop()
    lines = [line for line in json_lines(server.output()) if line.get("logger") == "demo"]
    line = next(line for line in lines if line["message"] == "loading item 5")
    assert line["trace_id"] == record["trace_id"]
    assert line["span_id"] == record["span_id"]
    assert line["request_id"] == "req-abc-123"
    assert line["service.name"] == "test-svc"
    assert line["level"] == "INFO"
    assert line["timestamp"].endswith("Z")
    # uvicorn's own lines carry a copy of the message with colour codes for its console: not exported.
    uvicorn_lines = [line for line in json_lines(server.output()) if line.get("logger") == "uvicorn.error"]
    assert any(line["message"].startswith("Uvicorn running on") for line in uvicorn_lines)
    assert not any("color_message" in line for line in uvicorn_lines)
    uvicorn_records = [r for r in sink.logs() if r["scope"] == "uvicorn.error"]
    assert uvicorn_records and not any("color_message" in r["attributes"] for r in uvicorn_records)


def test_unhandled_error_has_fingerprint_and_server_error_log_keeps_request_id(sink, servers, tmp_path):
    server = start_demo(sink, servers, tmp_path)
    assert httpx.get(server.url + "/fail/7", headers={"x-request-id": "boom-1"}).status_code == 500
    assert httpx.get(server.url + "/fail/12345").status_code == 500
    assert httpx.get(server.url + "/missing").status_code == 404

    spans = sink.wait_for(lambda: len(server_spans(sink)) >= 3 and server_spans(sink))
    failed = [s for s in spans if s["attributes"]["url.path"].startswith("/fail")]
    assert all(s["status_code"] == 2 for s in failed)  # STATUS_CODE_ERROR
    assert all(s["attributes"]["error.type"] == "RuntimeError" for s in failed)
    prints = {s["attributes"]["error.fingerprint"] for s in failed}
    assert len(prints) == 1, "the same bug with different numbers must share one fingerprint"
    events = failed[0]["events"]
    assert events[0]["name"] == "exception"
    assert events[0]["attributes"]["exception.fingerprint"] in prints
    missing = next(s for s in spans if s["attributes"]["url.path"] == "/missing")
    assert missing["status_code"] != 2 and "error.type" not in missing["attributes"]

    # uvicorn logs the traceback after the server span ended: still correlated to the request
    error_logs = sink.wait_for(
        lambda: [
            r for r in sink.logs() if r["severity_text"] == "ERROR" and r["attributes"].get("exception.type")
        ]
    )
    first = next(r for r in error_logs if r["attributes"].get("request.id") == "boom-1")
    boom_span = next(s for s in failed if s["attributes"]["request.id"] == "boom-1")
    assert first["trace_id"] == boom_span["trace_id"]
    assert first["attributes"]["exception.fingerprint"] in prints


def test_secrets_are_scrubbed_from_logs_and_spans(sink, servers, tmp_path):
    server = start_demo(sink, servers, tmp_path)
    httpx.get(server.url + "/secret?api_key=sk-proj-SECRETSECRETSECRET1234&page=2")
    span = sink.wait_for(lambda: server_spans(sink))[0]
    assert "SECRET" not in span["attributes"]["url.query"]
    assert "page=2" in span["attributes"]["url.query"]
    record = sink.wait_for(lambda: [r for r in sink.logs() if r["scope"] == "demo"])[0]
    assert "sk-live" not in record["body"] and "[REDACTED]" in record["body"]
    assert "for user 7" in record["body"]
    server.stop()
    assert "sk-live-ABCDEFGH" not in server.output()


def test_http_metrics_follow_semconv(sink, servers, tmp_path):
    server = start_demo(sink, servers, tmp_path)
    httpx.get(server.url + "/items/1")
    httpx.get(server.url + "/fail/1")

    def duration_points() -> list[dict]:
        return [p for m in sink.metrics() if m["name"] == "http.server.request.duration" for p in m["points"]]

    points = sink.wait_for(
        lambda: len({p["attributes"].get("http.route") for p in duration_points()}) >= 2 and duration_points()
    )
    metric = next(m for m in sink.metrics() if m["name"] == "http.server.request.duration")
    assert metric["unit"] == "s" and metric["type"] == "histogram"
    assert points[0]["bounds"] == [
        0.005,
        0.01,
        0.025,
        0.05,
        0.075,
        0.1,
        0.25,
        0.5,
        0.75,
        1.0,
        2.5,
        5.0,
        7.5,
        10.0,
    ]
    routes = {p["attributes"]["http.route"]: p["attributes"] for p in points}
    assert routes["/items/{item_id}"]["http.response.status_code"] == 200
    assert routes["/fail/{n}"]["error.type"] == "RuntimeError"
    assert "url.path" not in routes["/items/{item_id}"]  # high-cardinality paths stay off metrics
    # exemplars link the latency histogram to the request's trace
    items = next(p for p in points if p["attributes"]["http.route"] == "/items/{item_id}")
    span = next(s for s in server_spans(sink) if s["attributes"]["url.path"] == "/items/1")
    assert [e["trace_id"] for e in items["exemplars"]] == [span["trace_id"]]
    names = sink.metric_names()
    for name in (
        "http.server.active_requests",
        "process.cpu.time",
        "process.memory.usage",
        "process.thread.count",
        "process.unix.file_descriptor.count",
        "cpython.gc.collections",
        "otel.sdk.processor.span.queue.size",
        "otel.sdk.processor.span.processed",
        "app.errors",
    ):
        assert name in names, name


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_both_otlp_protocols_deliver(sink, servers, tmp_path, protocol):
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": protocol}
    if protocol == "grpc":
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.grpc_endpoint
    server = start_demo(sink, servers, tmp_path, **env)
    httpx.get(server.url + "/items/3")
    sink.wait_for(lambda: server_spans(sink))
    transports = {r.transport for r in sink.requests}
    assert transports == {"grpc" if protocol == "grpc" else "http"}
