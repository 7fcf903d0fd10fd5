"""Building blocks of the Collector benchmark: pre-encoded OTLP batches, a load generator, cheap backend
stand-ins, and readers for the Collector's own metrics and its memory in /proc.

The load generator must not be the bottleneck: batches are encoded once, and each request only rewrites the
last four bytes of every trace id (so every trace is new to tail sampling and the service graph) before it
is POSTed over a keep-alive connection. The stand-ins answer OK without decoding anything.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import struct
import threading
import time
import urllib.request
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

SPANS_PER_TRACE = 8


def _kv(key: str, value: str | int) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _resource(service: str) -> Resource:
    return Resource(
        attributes=[
            _kv("service.name", service),
            _kv("service.version", "1.4.2"),
            _kv("service.instance.id", f"{service}-7f9c"),
            _kv("telemetry.sdk.language", "python"),
            _kv("telemetry.sdk.name", "opentelemetry"),
            _kv("telemetry.sdk.version", "1.45.0"),
            _kv("process.pid", 4242),
        ]
    )


@dataclass
class Batch:
    """One encoded OTLP request and where its per-request trace id prefixes are."""

    body: bytearray
    items: int
    trace_id_offsets: list[int] = field(default_factory=list)

    def next_body(self, counter: int) -> bytes:
        """The request with the last 4 bytes of every trace id set to ``counter``: new traces each send."""
        prefix = struct.pack(">I", counter & 0xFFFFFFFF)
        for offset in self.trace_id_offsets:
            self.body[offset : offset + 4] = prefix
        return bytes(self.body)


def _locate(body: bytes, prefixes: list[bytes]) -> list[int]:
    offsets = []
    for prefix in prefixes:
        start = 0
        while (found := body.find(prefix, start)) >= 0:
            offsets.append(found + len(prefix))
            start = found + 1
    return offsets


def trace_batch(spans: int = 512, seed: int = 1) -> Batch:
    """``spans`` spans in traces of 8: frontend server -> frontend client -> checkout server -> 5 internal.

    Every trace has a client/server pair (service graph) and realistic HTTP/DB attributes (redaction scans
    them all). Durations 2-80 ms, all OK: tail sampling keeps its probabilistic share.
    """
    rng = random.Random(seed)
    traces = spans // SPANS_PER_TRACE
    now = time.time_ns()
    frontend: list[Span] = []
    checkout: list[Span] = []
    prefixes = []
    for t in range(traces):
        # The counter goes into the low bytes, where trace ids are random (W3C) and where the tail sampling
        # decision cache looks: varying only the high bytes would make different traces collide there.
        prefix = rng.randbytes(12)
        prefixes.append(prefix)
        trace_id = prefix + b"\0\0\0\0"
        ids = [rng.randbytes(8) for _ in range(SPANS_PER_TRACE)]
        start = now - rng.randint(50, 80) * 1_000_000
        end = start + rng.randint(2, 80) * 1_000_000
        route = f"/api/orders/{t % 7}"

        def span(
            index: int,
            parent: int | None,
            name: str,
            kind: int,
            attrs: list[KeyValue],
            trace_id: bytes = trace_id,
            ids: list[bytes] = ids,
            start: int = start,
            end: int = end,
        ) -> Span:
            return Span(
                trace_id=trace_id,
                span_id=ids[index],
                parent_span_id=ids[parent] if parent is not None else b"",
                name=name,
                kind=kind,
                start_time_unix_nano=start + index * 100_000,
                end_time_unix_nano=end - index * 100_000,
                attributes=attrs,
                status=Status(code=Status.STATUS_CODE_UNSET),
            )

        http_attrs = [
            _kv("http.request.method", "GET"),
            _kv("http.route", route),
            _kv("url.path", f"{route}?page=2"),
            _kv("http.response.status_code", 200),
            _kv("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"),
            _kv("client.address", "10.1.2.3"),
        ]
        frontend.append(span(0, None, f"GET {route}", Span.SPAN_KIND_SERVER, http_attrs))
        frontend.append(
            span(
                1,
                0,
                "GET /checkout",
                Span.SPAN_KIND_CLIENT,
                [_kv("server.address", "checkout"), _kv("http.request.method", "GET")],
            )
        )
        checkout.append(span(2, 1, "GET /checkout", Span.SPAN_KIND_SERVER, http_attrs))
        for index in range(3, SPANS_PER_TRACE):
            checkout.append(
                span(
                    index,
                    2,
                    "SELECT orders",
                    Span.SPAN_KIND_CLIENT if index % 2 else Span.SPAN_KIND_INTERNAL,
                    [
                        _kv("db.system.name", "postgresql"),
                        _kv("db.query.text", "SELECT id, total FROM orders WHERE customer_id = $1"),
                        _kv("db.namespace", "shop"),
                    ],
                )
            )
    scope = InstrumentationScope(name="opentelemetry.instrumentation.fastapi", version="0.66b0")
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=_resource("frontend"), scope_spans=[ScopeSpans(scope=scope, spans=frontend)]
            ),
            ResourceSpans(
                resource=_resource("checkout"), scope_spans=[ScopeSpans(scope=scope, spans=checkout)]
            ),
        ]
    )
    body = request.SerializeToString()
    return Batch(bytearray(body), traces * SPANS_PER_TRACE, _locate(body, prefixes))


def log_batch(records: int = 512, seed: int = 2) -> Batch:
    """``records`` INFO/WARN log records of one service, with trace context and a few attributes."""
    rng = random.Random(seed)
    now = time.time_ns()
    logs = [
        LogRecord(
            time_unix_nano=now + i,
            observed_time_unix_nano=now + i,
            severity_number=9 if i % 10 else 13,
            severity_text="INFO" if i % 10 else "WARNING",
            body=AnyValue(
                string_value=f"order {rng.randint(1000, 99999)} placed for customer {rng.randint(1, 5000)} "
                f"in {rng.randint(2, 90)} ms (cart items={rng.randint(1, 9)})"
            ),
            attributes=[
                _kv("code.function.name", "place_order"),
                _kv("code.file.path", "/app/shop/orders.py"),
                _kv("code.line.number", 128),
                _kv("logger.name", "shop.orders"),
            ],
            trace_id=rng.randbytes(16),
            span_id=rng.randbytes(8),
            flags=1,
        )
        for i in range(records)
    ]
    request = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=_resource("checkout"),
                scope_logs=[ScopeLogs(scope=InstrumentationScope(name="shop.orders"), log_records=logs)],
            )
        ]
    )
    return Batch(bytearray(request.SerializeToString()), records)


@dataclass
class LoadResult:
    requests: int = 0
    items: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0


class LoadGenerator:
    """``threads`` threads POSTing batches to ``path`` over keep-alive connections, as fast as answered or,
    with ``rate`` (items/s over all threads), paced to that rate."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        batch_factory: Any,
        threads: int = 4,
        rate: float | None = None,
    ) -> None:
        self.host, self.port, self.path = host, port, path
        self.rate = rate
        self.batches = [batch_factory(seed=seed) for seed in range(threads)]
        self.result = LoadResult()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"load-{i}", daemon=True)
            for i in range(threads)
        ]

    def start(self) -> LoadGenerator:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> LoadResult:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=35)
        return self.result

    def _run(self, index: int) -> None:
        batch = self.batches[index]
        counter = index << 24
        headers = {"Content-Type": "application/x-protobuf"}
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        period = len(self._threads) * batch.items / self.rate if self.rate else 0.0
        due = time.monotonic() + period * index / max(1, len(self._threads))
        while not self._stop.is_set():
            if period:
                due += period
                pause = due - time.monotonic()
                if pause > 0:
                    self._stop.wait(pause)
            counter += 1
            try:
                connection.request("POST", self.path, batch.next_body(counter), headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                with self._lock:
                    self.result.errors += 1
                time.sleep(0.05)
                continue
            with self._lock:
                self.result.requests += 1
                self.result.statuses[status] = self.result.statuses.get(status, 0) + 1
                if status == 200:
                    self.result.items += batch.items
            if status != 200:
                time.sleep(0.01)  # refused (e.g. memory limiter): back off a little, as SDKs do
        connection.close()


class OkHttpReceiver:
    """OTLP/HTTP stand-in (e.g. for Loki): reads the body, answers 200 with an empty response message."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        receiver = self
        self.requests = 0
        self.bytes = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests += 1
                receiver.bytes += len(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> OkHttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class OkGrpcReceiver:
    """OTLP/gRPC stand-in (e.g. for Tempo): accepts Export calls as raw bytes, answers an empty response."""

    SERVICES = (
        "opentelemetry.proto.collector.trace.v1.TraceService",
        "opentelemetry.proto.collector.logs.v1.LogsService",
        "opentelemetry.proto.collector.metrics.v1.MetricsService",
    )

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests = 0
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.unary_unary_rpc_method_handler(self._export)  # no (de)serializers: raw bytes
        for service in self.SERVICES:
            self._server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(service, {"Export": handler}),)
            )
        self.port = self._server.add_insecure_port(f"{host}:0")

    def _export(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        self.requests += 1
        return b""

    def start(self) -> OkGrpcReceiver:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def scrape(port: int, host: str = "127.0.0.1") -> list[tuple[str, str, float]]:
    """The Collector's own metrics as (name, labels text, value)."""
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match:
            out.append((match.group(1), match.group(2) or "", float(match.group(3))))
    return out


def total(samples: list[tuple[str, str, float]], name: str, label: str = "") -> float:
    """Sum of ``name`` over the series whose labels contain ``label`` (e.g. 'exporter="otlp_http/loki"')."""
    return sum(value for n, labels, value in samples if n == name and label in labels)


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in KiB, from /proc/<pid>/status."""
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (all threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
