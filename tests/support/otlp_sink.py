"""A real OTLP receiver for tests: OTLP/HTTP (protobuf and JSON) and OTLP/gRPC servers that keep what arrives.

It speaks the protocol the collector, Loki (``/otlp``) and Tempo speak, so a test can stand it in for any of
them and assert on exactly what arrived. Decoded items are flattened into plain dicts.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from google.protobuf.json_format import Parse
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

_REQUEST_TYPES = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
}
_RESPONSE_TYPES = {
    "traces": trace_service_pb2.ExportTraceServiceResponse,
    "logs": logs_service_pb2.ExportLogsServiceResponse,
    "metrics": metrics_service_pb2.ExportMetricsServiceResponse,
}


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return bytes(value.bytes_value)
    return getattr(value, kind)


def attributes(kvs: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in kvs if isinstance(kv, KeyValue)}


@dataclass
class Received:
    """One export request as it arrived."""

    signal: str
    transport: str
    path: str
    headers: dict[str, str]
    message: Any


@dataclass
class OtlpSink:
    """OTLP/HTTP on ``http_path_prefix + /v1/{traces,logs,metrics}`` and OTLP/gRPC, on free loopback ports.

    ``status`` lets a test make the receiver refuse data (e.g. 503) to exercise retries;
    :meth:`hold_answers` makes it keep what arrives over HTTP without answering (a backend that stored a
    request and has not confirmed it yet), until :meth:`answer`.
    """

    host: str = "127.0.0.1"
    http_port: int = 0
    grpc_port: int | None = 0
    http_path_prefix: str = ""
    status: int = 200
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._answering = threading.Event()
        self._answering.set()
        self.held: list[Received] = []  # requests kept while answers were held
        self._http: ThreadingHTTPServer | None = None
        self._grpc: grpc.Server | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> OtlpSink:
        self._http = ThreadingHTTPServer((self.host, self.http_port), _handler_for(self))
        self._http.daemon_threads = True
        self.http_port = self._http.server_address[1]
        thread = threading.Thread(target=self._http.serve_forever, name="otlp-sink-http", daemon=True)
        thread.start()
        self._threads.append(thread)
        if self.grpc_port is not None:
            self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
            trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_GrpcTraces(self), self._grpc)
            logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_GrpcLogs(self), self._grpc)
            metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_GrpcMetrics(self), self._grpc)
            self.grpc_port = self._grpc.add_insecure_port(f"{self.host}:{self.grpc_port}")
            self._grpc.start()
        return self

    def stop(self) -> None:
        self._answering.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._grpc is not None:
            self._grpc.stop(grace=None)
            self._grpc = None

    def __enter__(self) -> OtlpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def http_endpoint(self) -> str:
        return f"http://{self.host}:{self.http_port}{self.http_path_prefix}"

    @property
    def grpc_endpoint(self) -> str:
        return f"http://{self.host}:{self.grpc_port}"

    # -- recording ---------------------------------------------------------------------------------------
    def record(self, item: Received) -> None:
        with self._lock:
            self.requests.append(item)

    def hold_answers(self) -> None:
        """From now on, keep each OTLP/HTTP request that arrives but do not answer it until :meth:`answer`."""
        self._answering.clear()

    def answer(self) -> None:
        """Answer the held requests (a client that went away meanwhile gets nothing) and all later ones."""
        self._answering.set()

    def held_requests(self) -> list[Received]:
        with self._lock:
            return list(self.held)

    def _answer_when_allowed(self, item: Received) -> None:
        if self._answering.is_set():
            return
        with self._lock:
            self.held.append(item)
        self._answering.wait()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def _messages(self, signal: str) -> list[Any]:
        with self._lock:
            return [r.message for r in self.requests if r.signal == signal]

    # -- decoded views -----------------------------------------------------------------------------------
    def spans(self) -> list[dict[str, Any]]:
        out = []
        for message in self._messages("traces"):
            for rs in message.resource_spans:
                resource = attributes(rs.resource.attributes)
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        out.append(
                            {
                                "name": span.name,
                                "kind": span.kind,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_span_id": span.parent_span_id.hex(),
                                "attributes": attributes(span.attributes),
                                "resource": resource,
                                "scope": ss.scope.name,
                                "status_code": span.status.code,
                                "status_message": span.status.message,
                                "events": [
                                    {"name": e.name, "attributes": attributes(e.attributes)}
                                    for e in span.events
                                ],
                                "start_ns": span.start_time_unix_nano,
                                "end_ns": span.end_time_unix_nano,
                            }
                        )
        return out

    def logs(self) -> list[dict[str, Any]]:
        out = []
        for message in self._messages("logs"):
            for rl in message.resource_logs:
                resource = attributes(rl.resource.attributes)
                for sl in rl.scope_logs:
                    for record in sl.log_records:
                        out.append(
                            {
                                "body": any_value(record.body),
                                "severity_text": record.severity_text,
                                "severity_number": record.severity_number,
                                "trace_id": record.trace_id.hex(),
                                "span_id": record.span_id.hex(),
                                "attributes": attributes(record.attributes),
                                "resource": resource,
                                "scope": sl.scope.name,
                            }
                        )
        return out

    def metrics(self) -> list[dict[str, Any]]:
        """One dict per metric per request, with its data points flattened."""
        out = []
        for message in self._messages("metrics"):
            for rm in message.resource_metrics:
                resource = attributes(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        kind = metric.WhichOneof("data")
                        data = getattr(metric, kind)
                        points = []
                        for dp in data.data_points:
                            point: dict[str, Any] = {"attributes": attributes(dp.attributes)}
                            if kind == "histogram":
                                point.update(
                                    count=dp.count,
                                    sum=dp.sum,
                                    bounds=list(dp.explicit_bounds),
                                    bucket_counts=list(dp.bucket_counts),
                                    exemplars=[
                                        {
                                            "trace_id": e.trace_id.hex(),
                                            "span_id": e.span_id.hex(),
                                            "value": e.as_double,
                                        }
                                        for e in dp.exemplars
                                    ],
                                )
                            elif kind in ("sum", "gauge"):
                                point["value"] = (
                                    dp.as_double if dp.WhichOneof("value") == "as_double" else dp.as_int
                                )
                            points.append(point)
                        out.append(
                            {
                                "name": metric.name,
                                "unit": metric.unit,
                                "type": kind,
                                "resource": resource,
                                "scope": sm.scope.name,
                                "points": points,
                                "monotonic": getattr(data, "is_monotonic", None),
                                "temporality": getattr(data, "aggregation_temporality", None),
                            }
                        )
        return out

    def metric_names(self) -> set[str]:
        return {m["name"] for m in self.metrics()}

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
        """Poll ``predicate`` until it returns something truthy; raise AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"condition not met within {timeout}s; received {len(self.requests)} requests"
                )
            time.sleep(interval)


def _handler_for(sink: OtlpSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            return

        def do_POST(self) -> None:
            signal = self._signal()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if signal is None:
                self._reply(404, b"unknown path", "text/plain")
                return
            if sink.status >= 300:
                self._reply(sink.status, b"refused by test", "text/plain")
                return
            encoding = (self.headers.get("Content-Encoding") or "").lower()
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            message = _REQUEST_TYPES[signal]()
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type == "application/json":
                Parse(body.decode(), message)
            else:
                message.ParseFromString(body)
            headers = {k.lower(): v for k, v in self.headers.items()}
            item = Received(signal, "http", self.path, headers, message)
            sink.record(item)
            sink._answer_when_allowed(item)
            try:
                self._reply(200, _RESPONSE_TYPES[signal]().SerializeToString(), "application/x-protobuf")
            except OSError:  # the client went away while its answer was held
                self.close_connection = True

        def _signal(self) -> str | None:
            for signal in _REQUEST_TYPES:
                if self.path == f"{sink.http_path_prefix}/v1/{signal}":
                    return signal
            return None

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _GrpcBase:
    signal = ""

    def __init__(self, sink: OtlpSink) -> None:
        self._sink = sink

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        if self._sink.status >= 300:
            context.abort(grpc.StatusCode.UNAVAILABLE, "refused by test")
        headers = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        self._sink.record(Received(self.signal, "grpc", "", headers, request))
        return _RESPONSE_TYPES[self.signal]()


class _GrpcTraces(_GrpcBase, trace_service_pb2_grpc.TraceServiceServicer):
    signal = "traces"


class _GrpcLogs(_GrpcBase, logs_service_pb2_grpc.LogsServiceServicer):
    signal = "logs"


class _GrpcMetrics(_GrpcBase, metrics_service_pb2_grpc.MetricsServiceServicer):
    signal = "metrics"
