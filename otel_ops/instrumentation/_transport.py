"""OTLP transports: send one export request (a protobuf message) over HTTP or gRPC, or print it.

Each ``send`` makes exactly one attempt and says what became of it (:class:`Outcome`); retrying is the
export queue's job, so a dead collector costs a refused connection, not a retry loop on the caller.
"""

from __future__ import annotations

# socket.getaddrinfo encodes host names with the idna codec, whose module is imported on first use. Loading
# it here, on the configuring thread, means a fork (gunicorn --preload) that lands while an export thread
# makes its first connection cannot leave the child with the codec cached as unknown, which would fail
# every export of that worker with "LookupError: unknown encoding: idna".
import encodings.idna  # noqa: F401
import gzip
import logging
import os
import sys
import threading
from typing import Any, Protocol

import urllib3
from google.protobuf.json_format import MessageToJson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_ops.config.settings import Signal, SignalExport
from otel_ops.instrumentation._batch import Outcome

_logger = logging.getLogger("otel_ops.export")

_RETRYABLE_HTTP = frozenset({408, 429, 502, 503, 504})
_USER_AGENT = "otel-ops"


class Transport(Protocol):
    endpoint: str

    def send(self, message: Any, timeout: float | None) -> Outcome: ...

    def close(self) -> None: ...


class HttpTransport:
    """OTLP/HTTP with binary protobuf, optional gzip."""

    def __init__(self, config: SignalExport) -> None:
        self.endpoint = config.endpoint
        self._timeout = config.timeout
        self._gzip = config.compression == "gzip"
        self._headers = {
            "Content-Type": "application/x-protobuf",
            "User-Agent": _USER_AGENT,
            **config.headers,
        }
        if self._gzip:
            self._headers["Content-Encoding"] = "gzip"
        self._certificate = config.certificate
        self._pool = self._new_pool()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset_after_fork)

    def _new_pool(self) -> urllib3.PoolManager:
        kwargs: dict[str, Any] = {"num_pools": 2, "maxsize": 1, "retries": False}
        if self._certificate:
            kwargs["ca_certs"] = self._certificate
        return urllib3.PoolManager(**kwargs)

    def _reset_after_fork(self) -> None:
        self._pool = self._new_pool()

    def send(self, message: Any, timeout: float | None) -> Outcome:
        body = message if isinstance(message, bytes) else message.SerializeToString()
        if self._gzip:
            body = gzip.compress(body, compresslevel=5)
        limit = self._timeout if timeout is None else min(self._timeout, timeout)
        try:
            response = self._pool.request(
                "POST",
                self.endpoint,
                body=body,
                headers=self._headers,
                timeout=urllib3.Timeout(total=max(limit, 0.001)),
                redirect=False,
            )
        except urllib3.exceptions.HTTPError:
            return Outcome.RETRY
        status = response.status
        if 200 <= status < 300:
            return Outcome.SUCCESS
        if status in _RETRYABLE_HTTP:
            return Outcome.RETRY
        _logger.error(
            "otel-ops: %s refused the export with HTTP %d: %s", self.endpoint, status, response.data[:300]
        )
        return Outcome.DROP

    def close(self) -> None:
        self._pool.clear()


class GrpcTransport:
    """OTLP/gRPC (needs ``grpcio``: ``pip install 'otel-ops[grpc]'``)."""

    _RETRYABLE = (
        "CANCELLED",
        "DEADLINE_EXCEEDED",
        "RESOURCE_EXHAUSTED",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNAVAILABLE",
        "DATA_LOSS",
    )

    def __init__(self, config: SignalExport) -> None:
        try:
            import grpc  # noqa: F401
        except ImportError as exc:
            raise RuntimeError(
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs grpcio: install 'otel-ops[grpc]' or use http/protobuf"
            ) from exc
        self.endpoint = config.endpoint
        self._config = config
        self._lock = threading.Lock()
        self._pid = -1
        self._channel: Any = None
        self._call: Any = None

    def _stub(self) -> Any:
        import grpc

        if self._pid == os.getpid() and self._call is not None:
            return self._call
        config = self._config
        target = config.endpoint
        secure = target.startswith("https://") or (not target.startswith("http://") and not config.insecure)
        for scheme in ("http://", "https://"):
            if target.startswith(scheme):
                target = target[len(scheme) :]
        if secure:
            root = open(config.certificate, "rb").read() if config.certificate else None  # noqa: SIM115
            channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=root))
        else:
            channel = grpc.insecure_channel(target)
        self._channel = channel
        self._call = channel.unary_unary(
            _GRPC_METHODS[config.signal],
            request_serializer=lambda message: (
                message if isinstance(message, bytes) else message.SerializeToString()
            ),
            response_deserializer=lambda data: data,
        )
        self._pid = os.getpid()
        return self._call

    def send(self, message: Any, timeout: float | None) -> Outcome:
        import grpc

        limit = self._config.timeout if timeout is None else min(self._config.timeout, timeout)
        metadata = tuple((k.lower(), v) for k, v in self._config.headers.items())
        compression = grpc.Compression.Gzip if self._config.compression == "gzip" else None
        try:
            with self._lock:
                call = self._stub()
            call(message, timeout=max(limit, 0.001), metadata=metadata, compression=compression)
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else None
            if code is not None and code.name in self._RETRYABLE:
                return Outcome.RETRY
            _logger.error("otel-ops: %s refused the export: %s", self.endpoint, error)
            return Outcome.DROP
        return Outcome.SUCCESS

    def close(self) -> None:
        if self._channel is not None and self._pid == os.getpid():
            self._channel.close()


_REQUEST_TYPES: dict[Signal, Any] = {
    "traces": ExportTraceServiceRequest,
    "metrics": ExportMetricsServiceRequest,
    "logs": ExportLogsServiceRequest,
}

_GRPC_METHODS: dict[Signal, str] = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}


class ConsoleTransport:
    """Prints each export request as OTLP JSON on stdout (``OTEL_*_EXPORTER=console``)."""

    endpoint = "stdout"

    def __init__(self, signal: Signal) -> None:
        self._request_type = _REQUEST_TYPES[signal]

    def send(self, message: Any, timeout: float | None) -> Outcome:
        if isinstance(message, bytes):
            message = self._request_type.FromString(message)
        sys.stdout.write(MessageToJson(message, indent=None) + "\n")
        sys.stdout.flush()
        return Outcome.SUCCESS

    def close(self) -> None:
        return None


def transport_for(exporter: str, config: SignalExport) -> Transport:
    if exporter == "console":
        return ConsoleTransport(config.signal)
    if config.protocol == "grpc":
        return GrpcTransport(config)
    return HttpTransport(config)
