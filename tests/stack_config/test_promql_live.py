"""Run every dashboard query and every rule on a real Prometheus holding series named as the pipeline
names them: each dashboard query must execute and return data, each rule must evaluate without error.

The series come from a small exporter scraped every second (honor_labels keeps service_name, job, ...
as the collector's remote write would set them). Counters grow with wall-clock time at fixed rates."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml

from tests.collector.processes import Process, free_port, http_get, wait_for
from tests.stack_config.conftest import dashboards, rule_files
from tests.stack_config.promql import (
    PROMETHEUS_UID,
    dashboard_expressions,
    dashboard_panels,
    datasource_queries,
    grafana_to_promql,
    rule_expressions,
    variable_selectors,
)

pytestmark = pytest.mark.slow

SVC = {"service_name": "demo", "service_instance_id": "i-1", "job": "demo", "instance": "i-1"}
COLLECTOR = {"job": "otel-collector", "instance": "localhost:8888"}
SIDECAR = {"job": "otel-ops-sidecar", "instance": "localhost:8000"}
PROMETHEUS = {"job": "prometheus", "instance": "localhost:9090"}
REMOTE_WRITE = {**COLLECTOR, "exporter": "prometheus_remote_write"}
HTTP = {"http_request_method": "GET", "http_route": "/items", "url_scheme": "http"}
GENAI = {"gen_ai_operation_name": "chat", "gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-x"}
# Cumulative share of observations per bucket boundary.
BUCKETS = {"0.1": 0.5, "0.5": 0.9, "1": 0.97, "2.5": 0.99, "+Inf": 1.0}


# (name, labels, per-second rate for counters | value for gauges, is_counter)
def _series() -> list[tuple[str, dict[str, str], float, bool]]:
    out: list[tuple[str, dict[str, str], float, bool]] = []

    def histogram(name: str, labels: dict[str, str], rate: float, mean: float) -> None:
        for le, share in BUCKETS.items():
            out.append((f"{name}_bucket", {**labels, "le": le}, rate * share, True))
        out.append((f"{name}_count", labels, rate, True))
        out.append((f"{name}_sum", labels, rate * mean, True))

    for code, rate in (("200", 10.0), ("500", 0.5)):
        histogram(
            "http_server_request_duration_seconds",
            {**SVC, **HTTP, "http_response_status_code": code},
            rate,
            0.2,
        )
    out.append(("http_server_active_requests", {**SVC, **HTTP}, 3, False))
    span = {
        **SVC,
        "span_name": "GET /items",
        "span_kind": "SPAN_KIND_SERVER",
        "status_code": "STATUS_CODE_UNSET",
    }
    histogram("traces_span_metrics_duration_seconds", span, 10.0, 0.2)
    out.append(("traces_span_metrics_calls_total", span, 10.0, True))
    out.append(("traces_span_metrics_calls_total", {**span, "status_code": "STATUS_CODE_ERROR"}, 0.5, True))
    for token_type, rate in (("input", 40.0), ("output", 10.0)):
        histogram("gen_ai_client_token_usage", {**SVC, **GENAI, "gen_ai_token_type": token_type}, 1.0, rate)
    histogram("gen_ai_client_operation_duration_seconds", {**SVC, **GENAI}, 1.0, 1.5)
    histogram(
        "gen_ai_client_operation_duration_seconds", {**SVC, **GENAI, "error_type": "RateLimitError"}, 0.1, 0.3
    )
    out.append(("gen_ai_client_cost_usd_total", {**SVC, **GENAI}, 0.002, True))
    for status, rate in (("ok", 0.5), ("error", 0.05)):
        out.append(
            ("gen_ai_agent_runs_total", {**SVC, "gen_ai_agent_name": "planner", "status": status}, rate, True)
        )
    histogram("gen_ai_agent_duration_seconds", {**SVC, "gen_ai_agent_name": "planner"}, 0.5, 4.0)
    errors = {**SVC, "error_type": "ValueError", "error_fingerprint": "3f2a9c", "http_route": "/items"}
    out.append(("app_errors_total", errors, 0.5, True))
    for mode, rate in (("user", 0.2), ("system", 0.05)):
        out.append(("process_cpu_time_seconds_total", {**SVC, "cpu_mode": mode}, rate, True))
    out += [
        ("process_cpu_utilization_ratio", SVC, 0.25, False),
        ("process_memory_usage_bytes", SVC, 150e6, False),
        ("process_memory_virtual_bytes", SVC, 600e6, False),
        ("process_thread_count", SVC, 12, False),
        ("process_unix_file_descriptor_count", SVC, 40, False),
        ("cpython_gc_collections_total", {**SVC, "cpython_gc_generation": "0"}, 2.0, True),
    ]
    for signal in ("span", "log"):
        out += [
            (f"otel_sdk_processor_{signal}_queue_size", SVC, 100, False),
            (f"otel_sdk_processor_{signal}_queue_capacity", SVC, 2048, False),
            (f"otel_sdk_processor_{signal}_processed_total", SVC, 20.0, True),
            (f"otel_sdk_processor_{signal}_processed_total", {**SVC, "error_type": "queue_full"}, 0.1, True),
        ]
    for signal in ("spans", "metric_points", "log_records"):
        receiver = {**COLLECTOR, "receiver": "otlp", "transport": "http"}
        exporter = {**COLLECTOR, "exporter": "otlp_grpc/tempo"}
        out += [
            (f"otelcol_receiver_accepted_{signal}", receiver, 20.0, True),
            (f"otelcol_receiver_refused_{signal}", receiver, 0.1, True),
            (f"otelcol_exporter_sent_{signal}", exporter, 20.0, True),
            (f"otelcol_exporter_send_failed_{signal}", exporter, 0.1, True),
            (f"otelcol_exporter_enqueue_failed_{signal}", exporter, 0.1, True),
        ]
    queue = {**COLLECTOR, "exporter": "otlp_grpc/tempo", "data_type": "traces"}
    out += [
        ("otelcol_exporter_queue_size", queue, 100, False),
        ("otelcol_exporter_queue_capacity", queue, 1000, False),
        ("otelcol_process_memory_rss", COLLECTOR, 200e6, False),
        ("otelcol_exporter_prometheusremotewrite_wal_bytes_written", REMOTE_WRITE, 2000.0, True),
        ("otelcol_exporter_prometheusremotewrite_wal_bytes_read", REMOTE_WRITE, 1900.0, True),
        (
            "prometheus_http_requests_total",
            {**PROMETHEUS, "handler": "/api/v1/write", "code": "204"},
            2,
            True,
        ),
        (
            "prometheus_http_requests_total",
            {**PROMETHEUS, "handler": "/api/v1/write", "code": "400"},
            0.1,
            True,
        ),
        ("otelcol_process_cpu_seconds", COLLECTOR, 0.1, True),
        ("otel_ops_health_check_status", {**SIDECAR, "check": "collector:health"}, 1, False),
        ("otel_ops_health_check_status", {**SIDECAR, "check": "loki:ready"}, 0.5, False),
        ("otel_ops_anomaly_score", {**SIDECAR, "job": "demo", "series": "latency_p95"}, 0.3, False),
        ("otel_ops_anomaly_job_series", {**SIDECAR, "job": "demo"}, 3, False),
        ("otel_ops_anomaly_job_series_refused", {**SIDECAR, "job": "demo"}, 2, False),
    ]
    return out


SERIES = _series()


def _exposition(elapsed: float) -> str:
    lines = []
    for name, labels, value, counter in SERIES:
        text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        lines.append(f"{name}{{{text}}} {value * (100 + elapsed) if counter else value}")
    backup = ",".join(f'{k}="{v}"' for k, v in {**SIDECAR, "source": "sqlite"}.items())
    lines.append(f"otel_ops_backup_last_success_timestamp_seconds{{{backup}}} {time.time() - 3600}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("Prometheus is not installed (Debian package prometheus)")
    start = time.monotonic()

    class Exporter(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = _exposition(time.monotonic() - start).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    exporter = ThreadingHTTPServer(("127.0.0.1", 0), Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    workdir: Path = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in rule_files()],
        "scrape_configs": [
            {
                "job_name": "pipeline",
                "honor_labels": True,
                "static_configs": [{"targets": [f"127.0.0.1:{exporter.server_address[1]}"]}],
            }
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    process = Process(
        name="prometheus",
        command=[
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-remote-write-receiver",
            "--enable-feature=exemplar-storage",
        ],
        log=workdir / "prometheus.log",
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    try:
        process.wait_until(f"{url}/-/ready", timeout=30)
        # Rates need two scrapes, rules built on recording rules one more evaluation: wait until every
        # recording rule has data, then for one more evaluation of the alerts that read them.
        records = sorted({name for name, _ in rule_expressions() if ":" in name})
        wait_for(
            lambda: all(_query(url, name) for name in records),
            timeout=30,
            message="data from every recording rule",
        )
        evaluated = _last_evaluations(url)
        wait_for(
            lambda: all(at != evaluated.get(group) for group, at in _last_evaluations(url).items()),
            timeout=30,
            message="one more evaluation of every rule group",
            interval=0.2,
        )
        yield url
    finally:
        process.stop()
        exporter.shutdown()


def _last_evaluations(url: str) -> dict[str, str]:
    """When Prometheus last evaluated each rule group (``file:name`` -> its timestamp)."""
    status, body = http_get(f"{url}/api/v1/rules", timeout=10)
    assert status == 200, body
    return {f"{g['file']}:{g['name']}": g["lastEvaluation"] for g in json.loads(body)["data"]["groups"]}


def _query(url: str, promql: str) -> list[dict]:
    status, body = http_get(f"{url}/api/v1/query?{urlencode({'query': promql})}", timeout=10)
    payload = json.loads(body)
    assert status == 200 and payload["status"] == "success", f"{promql}: {status} {payload}"
    return list(payload["data"]["result"])


# Queries that legitimately return nothing here: no alert has been pending long enough to fire.
MAY_BE_EMPTY = {'ALERTS{alertstate="firing"}'}


def test_every_dashboard_query_returns_data(prometheus: str) -> None:
    empty = []
    for where, expr in dashboard_expressions() + variable_selectors() + datasource_queries():
        promql = grafana_to_promql(expr)
        if not _query(prometheus, promql) and expr not in MAY_BE_EMPTY:
            empty.append(f"{where}: {promql}")
    assert empty == [], "queries without data:\n" + "\n".join(empty)


def test_every_rule_evaluates(prometheus: str) -> None:
    status, body = http_get(f"{prometheus}/api/v1/rules", timeout=10)
    assert status == 200
    groups = json.loads(body)["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == len(rule_expressions())
    unhealthy = [f"{r['name']}: {r.get('lastError')}" for r in rules if r["health"] != "ok"]
    assert unhealthy == []


def test_dashboard_legends_name_real_labels(prometheus: str) -> None:
    """A legend {{label}} that no result carries shows an empty legend: the query aggregated it away."""
    missing = []
    for name, dashboard in dashboards().items():
        for panel in dashboard_panels(dashboard):
            for target in panel.get("targets", []):
                if target.get("datasource", {}).get("uid") != PROMETHEUS_UID:
                    continue
                labels = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", target.get("legendFormat", "")))
                for series in _query(prometheus, grafana_to_promql(target["expr"])):
                    if labels - set(series["metric"]):
                        missing.append(f"{name}: {panel['title']}: {sorted(labels - set(series['metric']))}")
    assert missing == []
