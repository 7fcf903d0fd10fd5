"""Logs: stdlib ``logging`` as JSON lines on stdout and as OTLP log records, both with correlation ids.

* :func:`correlate` is a plain callable that stamps ``trace_id``, ``span_id``, ``request_id`` (and, for
  exceptions, ``error_fingerprint``) on a ``LogRecord`` once, and prepares what every formatter and handler
  exports of it: the message, the ``extra=`` attributes, the exception's type, message and stack trace and
  the stack info, each scrubbed of secrets once.
* :class:`JsonFormatter` renders one JSON object per line with orjson.
* :class:`OtlpLogHandler` queues records for the export worker, which encodes them to OTLP protobuf; long
  bodies and attribute values are cut to their limits before they are queued.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import orjson

from otel_ops.instrumentation import _wire as wire
from otel_ops.instrumentation._batch import BatchQueue
from otel_ops.instrumentation._correlation import current_ids
from otel_ops.instrumentation._fingerprint import exception_type_name, fingerprint
from otel_ops.instrumentation._limits import attributes_size, cut, cut_keeping_end, limit_values
from otel_ops.instrumentation._scrub import Scrubber

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is exported.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()
    | {
        "message",
        "asctime",
        "taskName",
        "trace_id",
        "span_id",
        "request_id",
        "trace_sampled",
        "error_fingerprint",
        "_otel_ops",
        # uvicorn's copy of the message with terminal colour codes, for its own console formatter.
        "color_message",
    }
)
_PLAIN_RECORD_SIZE = len(vars(logging.LogRecord("", 0, "", 0, "", (), None)))
# Loggers whose records are never exported over OTLP: the exporters' own, to avoid feedback loops.
_NOT_EXPORTED_PREFIXES = ("opentelemetry", "otel_ops.export", "urllib3", "grpc", "uvicorn.access")

_RECORD_OVERHEAD = 96  # timestamps, severity, ids and framing of one encoded record, roughly

_SEVERITY = {  # stdlib level -> OTLP SeverityNumber
    logging.DEBUG: 5,
    logging.INFO: 9,
    logging.WARNING: 13,
    logging.ERROR: 17,
    logging.CRITICAL: 21,
}


def _severity(levelno: int) -> int:
    number = _SEVERITY.get(levelno)
    if number is None:
        number = 1 if levelno < 10 else min(24, 1 + levelno * 24 // 60)
    return number


class ExceptionDetails(NamedTuple):
    type: str
    message: str
    stacktrace: str


class Prepared(NamedTuple):
    """What is exported of one record, scrubbed: shared by every formatter and handler."""

    message: str
    extra: Mapping[str, Any]
    exception: ExceptionDetails | None
    stack_info: str | None


if TYPE_CHECKING:

    class CorrelatedRecord(logging.LogRecord):
        """A record once :func:`correlate` stamped it (the app's own formatters may use these too)."""

        trace_id: str | None
        span_id: str | None
        request_id: str | None
        trace_sampled: bool
        error_fingerprint: str | None


_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})  # shared by the many records without extras
_new_prepared = tuple.__new__  # skips the named tuple's argument handling: a log call pays for this


def _exception_details(exc_info: Any, scrubber: Scrubber | None) -> ExceptionDetails:
    exc = exc_info[1]
    stacktrace = "".join(traceback.format_exception(*exc_info))
    details = ExceptionDetails(exception_type_name(exc), str(exc), stacktrace.rstrip("\n"))
    if scrubber is None:
        return details
    return ExceptionDetails(*(scrubber.text(text) for text in details))


def correlate(record: logging.LogRecord, scrubber: Scrubber | None = None) -> Prepared:
    """Stamp correlation ids (and an exception fingerprint) on ``record`` and prepare its exported parts,
    scrubbed, once per record."""
    attributes = record.__dict__
    done: Prepared | None = attributes.get("_otel_ops")
    if done is not None:
        return done
    extra: Mapping[str, Any] = _NO_EXTRA
    if len(attributes) != _PLAIN_RECORD_SIZE:  # a plain record has exactly its standard attributes
        extra_keys = attributes.keys() - _STANDARD_ATTRS
        if extra_keys:
            extra = {k: attributes[k] for k in extra_keys}
    (
        attributes["trace_id"],
        attributes["span_id"],
        attributes["request_id"],
        attributes["trace_sampled"],
    ) = current_ids()
    message = record.getMessage()
    stack_info = record.stack_info
    if scrubber is not None:
        message = scrubber.text(message)
        if extra:
            extra = scrubber.attributes(extra) or extra
        if stack_info:
            stack_info = scrubber.text(stack_info)
    attributes["message"] = message
    exc_info = record.exc_info
    exception: ExceptionDetails | None = None
    if exc_info and exc_info[1] is not None:
        # the fingerprint groups by the raw exception: scrubbing must not change which group an error is in
        attributes["error_fingerprint"] = fingerprint(exc_info[1])
        exception = _exception_details(exc_info, scrubber)
    else:
        attributes["error_fingerprint"] = None
    prepared = _new_prepared(Prepared, (message, extra, exception, stack_info))
    attributes["_otel_ops"] = prepared
    return prepared


_MILLIS = [f".{ms:03d}Z" for ms in range(1000)]


class _SecondClock:
    """ISO-8601 UTC timestamps with millisecond precision, formatting the seconds part once per second."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, created: float, msecs: float) -> str:
        second = int(created)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return self._prefix + _MILLIS[int(msecs)]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, service.name, correlation ids, extras,
    and exception details."""

    def __init__(self, service_name: str = "", scrubber: Scrubber | None = None) -> None:
        super().__init__()
        self._service = service_name
        self._scrubber = scrubber
        self._clock = _SecondClock()

    def format(self, logged: logging.LogRecord) -> str:
        prepared = correlate(logged, self._scrubber)
        record = cast("CorrelatedRecord", logged)
        data: dict[str, Any] = {
            "timestamp": self._clock(record.created, record.msecs),
            "level": record.levelname,
            "logger": record.name,
            "message": prepared.message,
            "service.name": self._service,
            "trace_id": record.trace_id,
            "span_id": record.span_id,
            "request_id": record.request_id,
        }
        if prepared.extra:
            for key, value in prepared.extra.items():
                data.setdefault(key, value)
        exception = prepared.exception
        if exception is not None:
            data["exception"] = {
                "type": exception.type,
                "message": exception.message,
                "stacktrace": exception.stacktrace,
                "fingerprint": record.error_fingerprint,
            }
        elif prepared.stack_info:
            data["stack_info"] = prepared.stack_info
        return orjson.dumps(data, default=str).decode()


class TextFormatter(logging.Formatter):
    """Plain text with the correlation ids, for people reading a terminal."""

    def __init__(self, scrubber: Scrubber | None = None) -> None:
        super().__init__(
            "%(asctime)s %(levelname)-8s %(name)s [trace_id=%(trace_id)s span_id=%(span_id)s "
            "request_id=%(request_id)s] %(message)s"
        )
        self._scrubber = scrubber

    def format(self, record: logging.LogRecord) -> str:
        prepared = correlate(record, self._scrubber)
        record.message = prepared.message  # another handler's formatter may have put the raw one back
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        if prepared.exception is not None:
            text += "\n" + prepared.exception.stacktrace
        if prepared.stack_info:
            text += "\n" + prepared.stack_info
        return text

    def formatMessage(self, record: logging.LogRecord) -> str:
        return self._style.format(record)


class OtlpLogHandler(logging.Handler):
    """Queues log records for OTLP export; never blocks the caller. Bodies longer than ``body_limit`` and
    string attribute values longer than ``value_limit`` characters are cut (a stack trace keeps its end,
    where the error is) before they are queued."""

    def __init__(
        self,
        queue: BatchQueue[tuple[Any, ...]],
        scrubber: Scrubber | None,
        level: int,
        *,
        body_limit: int | None = None,
        value_limit: int | None = None,
    ) -> None:
        super().__init__(level)
        self._queue = queue
        self._scrubber = scrubber
        self._body_limit = body_limit
        self._value_limit = value_limit

    def emit(self, logged: logging.LogRecord) -> None:
        if logged.name.startswith(_NOT_EXPORTED_PREFIXES):
            return
        try:
            prepared = correlate(logged, self._scrubber)
            record = cast("CorrelatedRecord", logged)
            value_limit = self._value_limit
            attributes = limit_values(prepared.extra, value_limit) if prepared.extra else {}
            if record.request_id:
                attributes["request.id"] = record.request_id
            exception = prepared.exception
            if exception is not None:
                attributes["exception.type"] = exception.type
                attributes["exception.message"] = cut(exception.message, value_limit)
                attributes["exception.stacktrace"] = cut_keeping_end(exception.stacktrace, value_limit)
                attributes["exception.fingerprint"] = record.error_fingerprint
            message = cut(prepared.message, self._body_limit)
            self._queue.put(
                (
                    int(record.created * 1e9),
                    record.levelno,
                    record.levelname,
                    message,
                    record.name,
                    record.trace_id,
                    record.span_id,
                    record.trace_sampled,
                    attributes,
                ),
                _RECORD_OVERHEAD + len(message) + attributes_size(attributes),
            )
        except Exception:
            self.handleError(record)


def encode_log_record(
    time_ns: int,
    levelno: int,
    levelname: str,
    message: str,
    trace_id: str | None,
    span_id: str | None,
    sampled: bool,
    attributes: dict[str, Any],
) -> bytes:
    """One OTLP ``LogRecord`` (logs.proto field numbers)."""
    parts = [
        wire.fixed64(1, time_ns),
        wire.varint_field(2, _severity(levelno)),
        wire.string(3, levelname),
        wire.length_delimited(5, wire.string(1, message)),
        wire.attributes(6, attributes),
    ]
    if trace_id and span_id:
        parts.append(wire.fixed32(8, 1 if sampled else 0))  # W3C trace flags: sampled
        parts.append(wire.length_delimited(9, bytes.fromhex(trace_id)))
        parts.append(wire.length_delimited(10, bytes.fromhex(span_id)))
    parts.append(wire.fixed64(11, time_ns))
    return b"".join(parts)


def encode_log_batch(batch: Iterable[tuple[Any, ...]], resource_bytes: bytes) -> bytes:
    """OTLP request for queued records, grouped by logger name (the instrumentation scope)."""
    scopes: dict[str, list[bytes]] = {}
    for time_ns, levelno, levelname, message, name, trace_id, span_id, sampled, attributes in batch:
        scopes.setdefault(name, []).append(
            encode_log_record(time_ns, levelno, levelname, message, trace_id, span_id, sampled, attributes)
        )
    return wire.resource_group(
        resource_bytes, [(wire.scope(name), records) for name, records in scopes.items()]
    )
