"""``otel-ops demo`` end to end: real Collector, Prometheus and demo service on free loopback ports."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from otel_ops.stack import collector_build
from otel_ops.stack.processes import ManagedProcess, StackError, port_in_use
from tests.stack.conftest import free_ports

PROMETHEUS = Path("/usr/bin/prometheus")
# Collector (4), Prometheus, demo service, Jaeger (4), VictoriaLogs.
DEMO_PORTS = 11
# A table row of the report: "│ <labels> │ <value> │".
ROW = re.compile(r"│\s*(?P<labels>.*?)\s*│\s*(?P<value>[\d,.]+)\s*│")


def _demo(
    tmp_path: Path, *args: str, ports: list[int] | None = None, timeout: float = 150
) -> subprocess.CompletedProcess[str]:
    grpc, http, health, metrics, prometheus, service, *stores = ports or free_ports(DEMO_PORTS)
    jaeger, jaeger_grpc, jaeger_otlp, jaeger_health, victorialogs = stores
    command = [
        sys.executable,
        "-m",
        "otel_ops.cli.demo",
        "demo",
        *("--otlp-grpc-port", str(grpc), "--otlp-http-port", str(http), "--health-port", str(health)),
        *("--collector-metrics-port", str(metrics), "--prometheus-port", str(prometheus)),
        *("--service-port", str(service)),
        *("--jaeger-port", str(jaeger), "--jaeger-grpc-port", str(jaeger_grpc)),
        *("--jaeger-otlp-port", str(jaeger_otlp), "--jaeger-health-port", str(jaeger_health)),
        *("--victorialogs-port", str(victorialogs)),
        *args,
    ]
    env = {**os.environ, "OTEL_OPS_STATE_DIR": str(tmp_path / "state"), "COLUMNS": "250"}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp_path)


def _rows(output: str) -> list[tuple[str, float]]:
    return [
        (m["labels"], float(m["value"].replace(",", ""))) for m in map(ROW.search, output.splitlines()) if m
    ]


def _value(rows: list[tuple[str, float]], *parts: str) -> float:
    return sum(value for labels, value in rows if all(part in labels for part in parts))


def _collector_built() -> bool:
    try:
        return collector_build.binary_path() is not None
    except collector_build.CollectorBuildError:
        return False


@pytest.mark.slow
@pytest.mark.timeout(200)
@pytest.mark.skipif(not PROMETHEUS.exists(), reason="needs Debian's Prometheus at /usr/bin/prometheus")
@pytest.mark.skipif(not _collector_built(), reason="Collector not built: run `otel-ops collector build`")
def test_demo_reports_http_and_span_metrics(tmp_path: Path) -> None:
    ports = free_ports(DEMO_PORTS)
    result = _demo(tmp_path, "--duration", "10", ports=ports)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output

    assert "http_server_request_duration_seconds_count" in output
    assert "traces_span_metrics_calls_total" in output
    rows = _rows(result.stdout)
    assert _value(rows, "http_route=/v1/complete", "http_response_status_code=200") > 0, output
    assert _value(rows, "http_route=/v1/agent/run", "http_response_status_code=200") > 0, output
    assert _value(rows, "span_kind=SPAN_KIND_SERVER", "span_name=POST /v1/complete") > 0, output
    assert _value(rows, "span_kind=SPAN_KIND_CLIENT", "span_name=chat ") > 0, output
    assert _value(rows, "gen_ai_token_type=output") > 0, output
    # Exemplars: a span name, its duration and a 32-hex-digit trace id.
    assert re.search(r"│ (POST /v1/|chat |invoke_agent )[^│]*│\s*[\d.]+\s*│\s*[0-9a-f]{32}\s*│", output), (
        output
    )

    # The run ends with one of its errors explained from the real stores: the failing server span from
    # Jaeger, its error log line from VictoriaLogs, and where to open both.
    explained = output[output.index("An error of this run, explained") :]
    fingerprint = re.search(r"--fingerprint ([0-9a-f]{16})", explained)
    assert fingerprint, explained
    trace = re.search(r"Trace ([0-9a-f]{32})\s+\(Jaeger\)", explained)
    assert trace, explained
    assert re.search(r"POST /v1/(complete|agent/run)\s+server.*ERROR\s+HTTP 500", explained), explained
    assert "Exception in ASGI application" in explained
    assert f"/api/v3/traces/{trace[1]}" in explained and "/select/vmui/" in explained

    # Everything was stopped: the ports are free again and the logs were kept.
    assert not any(port_in_use(port) for port in ports), ports
    logs = tmp_path / "state" / "logs"
    assert {p.name for p in logs.iterdir()} >= {"collector.log", "prometheus.log", "demo-service.log"}


def test_demo_fails_clearly_when_a_port_is_taken(tmp_path: Path) -> None:
    ports = free_ports(DEMO_PORTS)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports[4]))
        taken.listen()
        result = _demo(tmp_path, "--duration", "1", ports=ports, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"port {ports[4]} (Prometheus) already in use" in result.stderr
    # Nothing was started.
    assert not (tmp_path / "state" / "logs").exists()


def test_a_process_that_dies_while_starting_shows_its_log(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    process = ManagedProcess(
        name="broken",
        command=["sh", "-c", "echo 'listen: address already in use' >&2; exit 3"],
        log=tmp_path / "broken.log",
        ready_url=f"http://127.0.0.1:{port}/",
    )
    process.start()
    with pytest.raises(StackError) as error:
        process.wait_ready(timeout=10)
    assert "broken exited with code 3" in str(error.value)
    assert "listen: address already in use" in str(error.value)
    assert process.stop() == 3
