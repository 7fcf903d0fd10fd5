"""Exporters other than OTLP: console output, a Prometheus pull endpoint, and 'none'."""

from __future__ import annotations

import json

from tests.instrumentation.conftest import free_port, run_python, service_env

SCRIPT = """
import otel_ops, time
from opentelemetry import metrics, trace
otel_ops.configure()
with trace.get_tracer("t").start_as_current_span("console-span"):
    pass
metrics.get_meter("m").create_counter("widgets").add(3, {"color": "red"})
{extra}
otel_ops.shutdown()
"""


def test_console_exporter_prints_otlp_json(sink):
    env = service_env(
        sink,
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_OPS_LOG_CONSOLE="none",
    )
    result = run_python(SCRIPT.replace("{extra}", ""), env)
    documents = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    names = [
        span["name"]
        for doc in documents
        for rs in doc.get("resourceSpans", [])
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]
    assert names == ["console-span"]
    assert sink.requests == []  # 'none' and 'console' send nothing over OTLP


def test_prometheus_pull_endpoint_serves_metrics(sink):
    port = free_port()
    fetch = f"""
import urllib.request
body = urllib.request.urlopen("http://127.0.0.1:{port}/metrics").read().decode()
print("BODY-START"); print(body); print("BODY-END")
"""
    env = service_env(
        sink,
        OTEL_METRICS_EXPORTER="prometheus",
        OTEL_EXPORTER_PROMETHEUS_PORT=str(port),
        OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
        OTEL_OPS_LOG_CONSOLE="none",
    )
    output = run_python(SCRIPT.replace("{extra}", fetch), env).stdout
    body = output.split("BODY-START", 1)[1].split("BODY-END", 1)[0]
    assert 'widgets_total{color="red"' in body
    assert "process_memory_usage" in body
    assert not [m for m in sink.metrics() if m["name"] == "widgets"]  # pull only: nothing pushed


def test_headers_and_gzip_compression_reach_the_collector(sink):
    env = service_env(
        sink,
        OTEL_EXPORTER_OTLP_COMPRESSION="gzip",
        OTEL_EXPORTER_OTLP_HEADERS="x-team=ai%20platform,authorization=Bearer%20t0k3n",
        OTEL_OPS_LOG_CONSOLE="none",
    )
    run_python(SCRIPT.replace("{extra}", ""), env)
    traces = [r for r in sink.requests if r.signal == "traces"]
    assert traces and traces[0].headers["content-encoding"] == "gzip"
    assert traces[0].headers["x-team"] == "ai platform"
    assert traces[0].headers["authorization"] == "Bearer t0k3n"
    assert [s["name"] for s in sink.spans()] == ["console-span"]


SERVER_SPAN_SCRIPT = """
import otel_ops
from fastapi import FastAPI
from fastapi.testclient import TestClient

app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, int]:
    return {"ok": 1}


otel_ops.configure(app=app)
with TestClient(app) as client:
    assert client.get("/ping").status_code == 200
otel_ops.shutdown()
"""


def test_server_spans_reach_every_trace_exporter(sink):
    env = service_env(
        sink,
        OTEL_TRACES_EXPORTER="otlp,console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_OPS_LOG_CONSOLE="none",
    )
    result = run_python(SERVER_SPAN_SCRIPT, env)
    printed = [
        span["name"]
        for line in result.stdout.splitlines()
        if line.startswith("{")
        for rs in json.loads(line).get("resourceSpans", [])
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]
    assert printed == ["GET /ping"]
    assert [s["name"] for s in sink.spans()] == ["GET /ping"]
