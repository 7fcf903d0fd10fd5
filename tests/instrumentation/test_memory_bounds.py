"""With the collector down, 200 KB log lines and 50 KB query strings and User-Agents cannot grow the host:
values are cut to their limits before they are queued, each export queue holds at most its byte bound
(``OTEL_OPS_MAX_QUEUE_BYTES``), and what is pushed out is reported as dropped in the self-metrics."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from tests.instrumentation.conftest import Server, free_port, service_env
from tests.support.otlp_sink import OtlpSink

REPO = Path(__file__).resolve().parents[2]
BOUND = 4 * 1024 * 1024  # below what the requests produce even after the value limits
REQUESTS = 300
BIG_LINE, BIG_VALUE = 200_000, 50_000


def _run(sink: OtlpSink, servers: list[Server], line: int, value: int) -> tuple[dict, dict]:
    """Stats of a service whose traces and logs go to a closed port, before and after ``REQUESTS`` requests
    that each log a ``line``-character message and carry ``value`` characters of query and User-Agent."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = service_env(
        sink,  # metrics (the queues' self-metrics) reach the sink
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{closed}/v1/traces",
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=f"{closed}/v1/logs",
        OTEL_OPS_MAX_QUEUE_BYTES=str(BOUND),
        OTEL_OPS_LOG_CONSOLE="none",
    )
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "tests.instrumentation.bounded_app:app", "--port", str(port)]
    server = Server([*args, "--log-level", "warning"], env, port, REPO)
    servers.append(server)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(5):  # warm up every code path first
            client.get("/log", params={"size": 10, "q": "v"}, headers={"user-agent": "warm-up"})
        before = client.get("/stats").json()
        agent = "agent/" + "a" * value
        for _ in range(REQUESTS):
            response = client.get(
                "/log", params={"size": line, "q": "v" * value}, headers={"user-agent": agent}
            )
            assert response.status_code == 200
        after = client.get("/stats").json()
    server.stop(9)
    return before, after


def _dropped_in_self_metrics(sink: OtlpSink, item: str) -> int:
    return max(
        (
            point["value"]
            for metric in sink.metrics()
            if metric["name"] == f"otel.sdk.processor.{item}.processed"
            for point in metric["points"]
            if point["attributes"].get("error.type") == "queue_full"
        ),
        default=0,
    )


def test_big_log_lines_and_request_values_stay_within_the_queue_byte_bound(sink, servers):
    before, after = _run(sink, servers, BIG_LINE, BIG_VALUE)
    for name in ("traces", "logs"):
        queue = after["queues"][name]
        assert queue["max_bytes"] == BOUND
        assert queue["bytes"] <= BOUND, f"{name}: {queue['bytes']} bytes held, bound {BOUND}"
        assert queue["dropped"] > 0, f"{name}: nothing dropped although {REQUESTS} big items exceed the bound"
    assert sink.wait_for(lambda: _dropped_in_self_metrics(sink, "log")) > 0
    assert sink.wait_for(lambda: _dropped_in_self_metrics(sink, "span")) > 0
    big_growth = after["rss"] - before["rss"]

    # the same requests with small lines and values, in the same run: the memory sanity bound is relative
    sink.clear()
    small_before, small_after = _run(sink, servers, 100, 20)
    assert all(q["dropped"] == 0 for q in small_after["queues"].values())
    small_growth = small_after["rss"] - small_before["rss"]
    held = REQUESTS * (BIG_LINE + 2 * BIG_VALUE)  # what unbounded queues would hold
    mib = 2**20
    growth = f"RSS grew {big_growth / mib:.1f} MiB with big values, {small_growth / mib:.1f} MiB with small"
    print(growth)
    assert big_growth < max(small_growth, 0) + held / 4, growth
