"""ASGI middleware: one server span per HTTP request, HTTP server metrics, request ids, and a flush of all
telemetry when the server shuts down.

The span follows the stable HTTP semantic conventions; no child spans for ASGI ``receive``/``send``.
Health and metrics paths are excluded. The configured propagators read the request's headers
(``_propagation``). On FastAPI apps a coverage object decides per request whether otel-ops records the
server span and HTTP metrics or leaves them to FastAPI's built-in telemetry (``_fastapi_native``); request
ids, log correlation and error counts are added either way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import Token
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Status, StatusCode

from otel_ops.instrumentation._correlation import RequestIds, request_ids
from otel_ops.instrumentation._errors import ErrorRecorder
from otel_ops.instrumentation._http_metrics import HttpServerMetrics, SdkHttpMetrics
from otel_ops.instrumentation._limits import scrub_and_clip
from otel_ops.instrumentation._propagation import HEADER_GETTER, Carrier, IncomingPropagation, add_header
from otel_ops.instrumentation._scrub import Scrubber
from otel_ops.instrumentation._server_span import ServerSpanFactory

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
_MAX_REQUEST_ID_LENGTH = 128
_HANDLED = "otel_ops.request"  # scope key: an otel-ops middleware further out handles this request

# Semantic-convention advice for http.server.request.duration (seconds).
HTTP_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


def _valid_request_id(value: str) -> bool:
    return 0 < len(value) <= _MAX_REQUEST_ID_LENGTH and value.isprintable()


def _route_template(scope: Scope) -> str | None:
    route = scope.get("route")
    return None if route is None else getattr(route, "path_format", None) or getattr(route, "path", None)


class Coverage(Protocol):
    """Decides, per request, what otel-ops records (see ``_fastapi_native``)."""

    def records(self, scope: Scope) -> int | None:
        """``RECORD_SPAN | RECORD_METRICS`` (or fewer), or None to leave the request alone entirely."""
        ...


RECORD_SPAN = 1
RECORD_METRICS = 2
RECORD_ALL = RECORD_SPAN | RECORD_METRICS


class TelemetryMiddleware:
    """Pure ASGI middleware; wraps the whole application (outermost), so it sees the final status code and
    unhandled exceptions."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        spans: ServerSpanFactory,
        metrics: HttpServerMetrics | SdkHttpMetrics,
        errors: ErrorRecorder,
        excluded_paths: tuple[str, ...],
        request_id_header: str,
        scrubber: Scrubber | None,
        on_shutdown: Callable[[], object] | None = None,
        coverage: Coverage | None = None,
    ) -> None:
        self.app = app
        self._spans = spans
        self._metrics = metrics
        self._errors = errors
        self._excluded = frozenset(p for p in excluded_paths if not p.endswith("*"))
        self._excluded_prefixes = tuple(p[:-1] for p in excluded_paths if p.endswith("*"))
        self._rid_header = request_id_header.lower().encode("latin-1")
        self._scrubber = scrubber
        self._on_shutdown = on_shutdown
        self._propagation = IncomingPropagation()
        self._coverage = coverage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan" and self._on_shutdown is not None:
                await self.app(scope, receive, self._lifespan_send(send))
                return
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in self._excluded or (self._excluded_prefixes and path.startswith(self._excluded_prefixes)):
            await self.app(scope, receive, send)
            return
        if _HANDLED in scope:  # an app mounted inside an instrumented app: the outer one records the request
            await self.app(scope, receive, send)
            return
        records = RECORD_ALL if self._coverage is None else self._coverage.records(scope)
        if records is None:
            await self.app(scope, receive, send)
            return
        scope[_HANDLED] = True

        textmap, fields = self._propagation.current()
        if not records & RECORD_SPAN:
            fields = frozenset()  # the request's context is not otel-ops' to read
        carrier: Carrier | None = None
        request_id: str | None = None
        user_agent: str | None = None
        host: str | None = None
        rid_header = self._rid_header
        for name, value in scope["headers"]:
            if fields is None or name in fields:
                if carrier is None:
                    carrier = {}
                add_header(carrier, name, value)
            if name == rid_header:
                candidate = value.decode("latin-1")
                if _valid_request_id(candidate):
                    request_id = candidate
            elif name == b"user-agent":
                user_agent = value.decode("latin-1")
            elif name == b"host":
                host = value.decode("latin-1")
        if request_id is None:
            request_id = os.urandom(16).hex()

        method: str = scope["method"]
        scheme: str = scope.get("scheme", "http")
        known_method = method if method in _KNOWN_METHODS else "_OTHER"
        token: Token[Context] | None = None
        if records & RECORD_SPAN:
            attributes: dict[str, Any] = {
                "http.request.method": known_method,
                "url.path": path,
                "url.scheme": scheme,
                "request.id": request_id,
            }
            if method not in _KNOWN_METHODS:
                attributes["http.request.method_original"] = method
            query = scope.get("query_string")
            if query:
                text = query.decode("latin-1")
                # scrubbed now, so span processors of the app's own never see its secrets
                attributes["url.query"] = scrub_and_clip(text, self._spans.value_length_limit, self._scrubber)
            if user_agent is not None:
                attributes["user_agent.original"] = user_agent
            if host is not None:
                address, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
                attributes["server.address"] = address or host
                if port.isdigit():
                    attributes["server.port"] = int(port)
            client = scope.get("client")
            if client:
                attributes["client.address"] = client[0]
            version = scope.get("http_version")
            if version:
                attributes["network.protocol.version"] = version

            parent = textmap.extract(carrier, getter=HEADER_GETTER) if carrier is not None else None
            span = self._spans.start(method, parent, attributes)
            token = otel_context.attach(trace.set_span_in_context(span, parent))
        else:
            span = trace.get_current_span()  # FastAPI's server span, or none: left exactly as it is
        span_context = span.get_span_context()
        if span_context.is_valid:
            ids = RequestIds(
                format(span_context.trace_id, "032x"),
                format(span_context.span_id, "016x"),
                request_id,
                span_context.span_id,
                span_context.trace_flags.sampled,
            )
        else:
            ids = RequestIds(None, None, request_id, 0, False)
        request_ids.set(ids)
        metering = records & RECORD_METRICS
        if metering:
            self._metrics.started(known_method, scheme)
        status_code = 0
        rid_value = request_id.encode("latin-1")

        async def send_with_request_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                headers = list(message.get("headers") or ())
                headers.append((rid_header, rid_value))
                message["headers"] = headers
            await send(message)

        start = time.perf_counter()
        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_with_request_id)
        except BaseException as exc:
            error = exc
            raise
        finally:
            duration = time.perf_counter() - start
            route_template = _route_template(scope)
            error_type: str | None = None
            if error is not None:
                error_type = self._errors.record(span if token is not None else trace.INVALID_SPAN, error)
            elif status_code >= 500:
                error_type = str(status_code)
            if token is not None:
                final: dict[str, Any] = {}
                if route_template:
                    final["http.route"] = route_template
                if status_code:
                    final["http.response.status_code"] = status_code
                if error_type is not None:
                    final["error.type"] = error_type
                    span.set_status(Status(StatusCode.ERROR))
                if span.is_recording():
                    span.update_name(f"{method} {route_template}" if route_template else method)
                    span.set_attributes(final)
            if metering:
                sampled = ids.sampled
                self._metrics.finished(
                    known_method,
                    scheme,
                    (known_method, scheme, route_template, status_code, error_type),
                    duration,
                    span_context.trace_id if sampled else 0,
                    span_context.span_id if sampled else 0,
                )
            if token is not None:
                span.end()
                otel_context.detach(token)

    def _lifespan_send(self, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete" and self._on_shutdown is not None:
                # uvicorn re-raises SIGTERM after shutdown, so exit hooks never run: flush here.
                self._on_shutdown()
            await send(message)

        return lifespan_send
