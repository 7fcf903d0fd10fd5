"""What an explanation is made of: spans, log records, exemplars, error groups, the alert, links.

Every store adapter returns these types, so the rest of ``explain`` never sees a store's own format.
:meth:`Explanation.to_dict` is the ``--json`` output.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


def iso(seconds: float | None) -> str | None:
    """Unix seconds as an ISO-8601 UTC time with milliseconds (``2026-12-04T15:15:50.434Z``)."""
    if seconds is None:
        return None
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_nanos(nanos: int | None) -> str | None:
    return None if nanos is None else iso(nanos / 1e9)


def rfc3339_nanos(text: str) -> int:
    """An RFC 3339 time (``2026-12-04T15:15:50.434464256Z``, any fraction, any offset) in nanoseconds."""
    value = text.strip().replace("z", "Z").replace(" ", "T")
    base, dot, rest = value.partition(".")
    fraction, zone = "", ""
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, zone = rest[:digits], rest[digits:]
    else:
        base, zone = value[:19], value[19:]
    offset = "+00:00" if zone in {"", "Z"} else zone
    moment = dt.datetime.fromisoformat(base + offset)
    return int(moment.timestamp()) * 1_000_000_000 + int((fraction or "0").ljust(9, "0")[:9])


def rfc3339_seconds(text: str | None) -> float | None:
    """An RFC 3339 time in Unix seconds; None for nothing or a zero time (``0001-01-01T00:00:00Z``)."""
    if not text or text.startswith("0001-"):
        return None
    try:
        return rfc3339_nanos(text) / 1e9
    except ValueError:
        return None


@dataclass(frozen=True)
class Window:
    """The period looked at: ``start`` to ``end`` in Unix seconds."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)

    def widened(self, before: float, after: float) -> Window:
        return Window(self.start - before, self.end + after)

    def to_dict(self) -> dict[str, Any]:
        return {"start": iso(self.start), "end": iso(self.end), "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_unix_nano: int
    attributes: dict[str, Any]


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str  # server, client, internal, producer, consumer, unspecified
    service: str
    start_unix_nano: int
    end_unix_nano: int
    status: str  # ok, error, unset
    status_message: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_unix_nano - self.start_unix_nano) / 1e6

    @property
    def failed(self) -> bool:
        return self.status == "error"

    @property
    def http_route(self) -> str | None:
        route = self.attributes.get("http.route")
        return str(route) if route is not None else None

    @property
    def http_status_code(self) -> int | None:
        code = self.attributes.get("http.response.status_code", self.attributes.get("http.status_code"))
        try:
            return int(code) if code is not None else None
        except (TypeError, ValueError):
            return None

    def _exception_event(self) -> SpanEvent | None:
        return next((event for event in self.events if event.name == "exception"), None)

    @property
    def error_fingerprint(self) -> str | None:
        value = self.attributes.get("error.fingerprint")
        if value is None and (event := self._exception_event()) is not None:
            value = event.attributes.get("exception.fingerprint")
        return str(value) if value is not None else None

    @property
    def exception(self) -> dict[str, str] | None:
        event = self._exception_event()
        if event is None:
            return None
        return {
            "type": str(event.attributes.get("exception.type", "")),
            "message": str(event.attributes.get("exception.message", "")),
        }

    @property
    def genai(self) -> dict[str, Any] | None:
        """Model, provider, tokens and cost of a GenAI span (None for other spans)."""
        attrs = self.attributes
        if not any(key.startswith("gen_ai.") for key in attrs):
            return None
        found = {
            "operation": attrs.get("gen_ai.operation.name"),
            "model": attrs.get("gen_ai.request.model", attrs.get("gen_ai.response.model")),
            "provider": attrs.get("gen_ai.provider.name", attrs.get("gen_ai.system")),
            "agent": attrs.get("gen_ai.agent.name"),
            "input_tokens": _number(attrs.get("gen_ai.usage.input_tokens")),
            "output_tokens": _number(attrs.get("gen_ai.usage.output_tokens")),
            "cost_usd": _number(attrs.get("gen_ai.usage.cost_usd")),
        }
        return {key: value for key, value in found.items() if value is not None}

    def to_dict(self, depth: int = 0) -> dict[str, Any]:
        return {
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "depth": depth,
            "name": self.name,
            "kind": self.kind,
            "service": self.service,
            "start": iso_nanos(self.start_unix_nano),
            "duration_ms": round(self.duration_ms, 3),
            "status": self.status,
            "status_message": self.status_message,
            "http_route": self.http_route,
            "http_status_code": self.http_status_code,
            "error_fingerprint": self.error_fingerprint,
            "exception": self.exception,
            "genai": self.genai,
            "attributes": self.attributes,
            "events": [
                {"name": e.name, "time": iso_nanos(e.time_unix_nano), "attributes": e.attributes}
                for e in self.events
            ],
        }


def _number(value: Any) -> float | int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and "." not in str(value) else number


@dataclass
class TraceView:
    """One trace as a store returned it: its spans ordered by start time."""

    trace_id: str
    spans: list[Span]
    store: str

    def __post_init__(self) -> None:
        self.spans.sort(key=lambda span: (span.start_unix_nano, span.span_id))

    @property
    def root(self) -> Span | None:
        ids = {span.span_id for span in self.spans}
        roots = [span for span in self.spans if not span.parent_span_id or span.parent_span_id not in ids]
        return roots[0] if roots else None

    @property
    def start_unix_nano(self) -> int:
        return min(span.start_unix_nano for span in self.spans)

    @property
    def end_unix_nano(self) -> int:
        return max(span.end_unix_nano for span in self.spans)

    @property
    def duration_ms(self) -> float:
        return (self.end_unix_nano - self.start_unix_nano) / 1e6

    @property
    def services(self) -> list[str]:
        return sorted({span.service for span in self.spans if span.service})

    @property
    def route(self) -> str | None:
        """The HTTP route of the outermost server span that has one."""
        return next((span.http_route for span in self.walk_spans() if span.http_route), None)

    @property
    def http_status_code(self) -> int | None:
        return next((s.http_status_code for s in self.walk_spans() if s.http_status_code is not None), None)

    @property
    def failed(self) -> bool:
        return any(span.failed for span in self.spans)

    @property
    def fingerprints(self) -> list[str]:
        return sorted({fp for span in self.spans if (fp := span.error_fingerprint)})

    def genai_totals(self) -> dict[str, Any] | None:
        calls = [span.genai for span in self.spans if span.genai and "model" in (span.genai or {})]
        if not calls:
            return None
        return {
            "calls": len(calls),
            "models": sorted({str(call["model"]) for call in calls}),
            "input_tokens": sum(call.get("input_tokens") or 0 for call in calls),
            "output_tokens": sum(call.get("output_tokens") or 0 for call in calls),
            "cost_usd": round(sum(call.get("cost_usd") or 0.0 for call in calls), 8),
        }

    def tree(self) -> Iterator[tuple[Span, int]]:
        """Spans depth-first from the roots, children by start time, with their depth."""
        children: dict[str | None, list[Span]] = {}
        ids = {span.span_id for span in self.spans}
        for span in self.spans:
            parent = span.parent_span_id if span.parent_span_id in ids else None
            children.setdefault(parent, []).append(span)

        def visit(parent: str | None, depth: int) -> Iterator[tuple[Span, int]]:
            for span in children.get(parent, []):
                yield span, depth
                yield from visit(span.span_id, depth + 1)

        yield from visit(None, 0)

    def walk_spans(self) -> Iterator[Span]:
        return (span for span, _ in self.tree())

    def to_dict(self) -> dict[str, Any]:
        root = self.root
        return {
            "trace_id": self.trace_id,
            "store": self.store,
            "root": root.name if root else None,
            "route": self.route,
            "http_status_code": self.http_status_code,
            "failed": self.failed,
            "start": iso_nanos(self.start_unix_nano),
            "duration_ms": round(self.duration_ms, 3),
            "services": self.services,
            "span_count": len(self.spans),
            "error_fingerprints": self.fingerprints,
            "genai": self.genai_totals(),
            "spans": [span.to_dict(depth) for span, depth in self.tree()],
        }


@dataclass
class LogRecord:
    time_unix_nano: int
    message: str
    severity: str = ""
    service: str = ""
    trace_id: str | None = None
    span_id: str | None = None
    request_id: str | None = None
    logger: str | None = None
    exception_type: str | None = None
    exception_message: str | None = None
    fingerprint: str | None = None
    stacktrace: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": iso_nanos(self.time_unix_nano),
            "time_unix_nano": self.time_unix_nano,
            "severity": self.severity,
            "message": self.message,
            "service": self.service,
            "logger": self.logger,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "request_id": self.request_id,
            "exception_type": self.exception_type,
            "exception_message": self.exception_message,
            "fingerprint": self.fingerprint,
            "stacktrace": self.stacktrace,
            "attributes": self.attributes,
        }


@dataclass(frozen=True)
class Exemplar:
    """A trace Prometheus kept as an example of a series: ``value`` is the observed duration."""

    trace_id: str
    span_id: str | None
    value_seconds: float
    timestamp: float
    metric: str
    series: dict[str, str]

    @property
    def route(self) -> str | None:
        """The HTTP route: a label of the HTTP metric, or read from a server span's name (``POST /x``)."""
        if self.series.get("http_route"):
            return self.series["http_route"]
        method, _, route = self.series.get("span_name", "").partition(" ")
        if self.series.get("span_kind") == "SPAN_KIND_SERVER" and method.isupper() and route.startswith("/"):
            return route
        return None

    @property
    def status_code(self) -> str | None:
        """The HTTP status code, else the span status (``error``, ``ok``, ``unset``)."""
        if self.series.get("http_response_status_code"):
            return self.series["http_response_status_code"]
        status = self.series.get("status_code")
        return status.removeprefix("STATUS_CODE_").lower() if status else None

    @property
    def failing(self) -> bool:
        code = self.series.get("http_response_status_code", "")
        return code.startswith("5") or self.series.get("status_code") == "STATUS_CODE_ERROR"

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "duration_seconds": self.value_seconds,
            "time": iso(self.timestamp),
            "metric": self.metric,
            "route": self.route,
            "span_name": self.series.get("span_name"),
            "service": self.series.get("service_name"),
            "status": self.status_code,
            "failing": self.failing,
        }


@dataclass
class ErrorGroup:
    """One error fingerprint: how often it happened in the window, when, where, and an example."""

    fingerprint: str
    error_type: str | None = None
    services: list[str] = field(default_factory=list)
    count: int | None = None  # recorded errors (the app.errors counter in Prometheus)
    log_records: int | None = None  # log records carrying the fingerprint
    first_seen: float | None = None
    last_seen: float | None = None
    message: str | None = None
    example_trace_id: str | None = None
    trace_ids: list[str] = field(default_factory=list)

    @property
    def occurrences(self) -> int:
        return max(self.count or 0, self.log_records or 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "type": self.error_type,
            "services": self.services,
            "count": self.count,
            "log_records": self.log_records,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "message": self.message,
            "example_trace_id": self.example_trace_id,
            "trace_ids": self.trace_ids,
        }


@dataclass
class AlertInfo:
    name: str
    fingerprint: str | None
    state: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float | None
    ends_at: float | None
    source: str  # the store it was found in
    generator_url: str | None = None
    expression: str | None = None
    others: list[dict[str, Any]] = field(default_factory=list)  # further alerts of the same name

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "state": self.state,
            "labels": self.labels,
            "annotations": self.annotations,
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "source": self.source,
            "generator_url": self.generator_url,
            "expression": self.expression,
            "other_alerts": self.others,
        }


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    store: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "url": self.url, "store": self.store}


@dataclass(frozen=True)
class Problem:
    """A store that could not answer: the explanation is incomplete."""

    store: str
    url: str
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"store": self.store, "url": self.url, "message": self.message, "hint": self.hint}


#: The parts of an explanation a store down leaves unknown (keys of :attr:`Explanation.unanswered`), each
#: named as its key in :meth:`Explanation.to_dict`.
SECTIONS = ("exemplars", "trace", "logs", "fingerprint_logs", "errors")


@dataclass
class Explanation:
    """Everything ``otel-ops explain`` found about one alert, trace or error fingerprint.

    ``window`` is the period searched and counted in: for a trace, the errors' hour before it ended, or
    (its spans unknown) the period its logs were searched in. ``logs_window`` is where the explained
    trace's logs were searched (around the trace when its spans are known).

    ``unanswered`` names the sections (:data:`SECTIONS`) a store could not be asked for, with that store's
    problem: their being empty (or a count being unknown) says nothing about what the store holds.
    """

    subject: str  # alert | trace | fingerprint
    query: str
    window: Window
    stores: dict[str, str] = field(default_factory=dict)  # role -> "Name URL"
    alert: AlertInfo | None = None
    exemplars: list[Exemplar] = field(default_factory=list)
    trace_id: str | None = None  # the trace explained (found or not)
    trace: TraceView | None = None
    logs: list[LogRecord] = field(default_factory=list)  # the explained trace's
    related_logs: list[LogRecord] = field(default_factory=list)  # carrying the explained fingerprint
    errors: list[ErrorGroup] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    logs_window: Window | None = None
    unanswered: dict[str, list[Problem]] = field(default_factory=dict)  # section -> stores not asked

    @property
    def complete(self) -> bool:
        return not self.problems

    def not_asked(self, section: str, problem: Problem) -> None:
        """``section`` could not be (wholly) gathered: the store of ``problem`` could not be asked."""
        if section not in SECTIONS:
            raise ValueError(f"unknown section {section!r}")
        listed = self.unanswered.setdefault(section, [])
        if problem not in listed:
            listed.append(problem)

    def failing_routes(self) -> list[dict[str, Any]]:
        counts = Counter(e.route for e in self.exemplars if e.failing and e.route)
        if self.trace is not None and self.trace.failed and self.trace.route and not counts:
            counts[self.trace.route] += 1
        return [{"route": route, "exemplars": n} for route, n in counts.most_common()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "query": self.query,
            "complete": self.complete,
            "window": self.window.to_dict(),
            "stores": self.stores,
            "alert": self.alert.to_dict() if self.alert else None,
            "exemplars": [exemplar.to_dict() for exemplar in self.exemplars],
            "failing_routes": self.failing_routes(),
            "trace_id": self.trace_id,
            "trace": self.trace.to_dict() if self.trace else None,
            "logs": [record.to_dict() for record in self.logs],
            "fingerprint_logs": [record.to_dict() for record in self.related_logs],
            "errors": [group.to_dict() for group in self.errors],
            "links": [link.to_dict() for link in self.links],
            "problems": [problem.to_dict() for problem in self.problems],
            "notes": self.notes,
            "logs_window": self.logs_window.to_dict() if self.logs_window else None,
            "unanswered": {
                section: [problem.to_dict() for problem in problems]
                for section, problems in self.unanswered.items()
            },
        }
