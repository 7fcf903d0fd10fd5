"""OTLP JSON traces (``resourceSpans``) as :class:`~otel_ops.explain.model.Span` objects.

Stores differ in the details of the same format: Jaeger writes ids in hex, enums as numbers and 64-bit
integers as strings, and adds its own ``@jaeger@…`` attributes; Tempo writes ids in base64 and enums by
name (``SPAN_KIND_SERVER``). Both are read here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

from otel_ops.explain.model import Span, SpanEvent

_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_STATUSES = {0: "unset", 1: "ok", 2: "error"}
#: Attributes a store adds for itself, not part of the telemetry.
_STORE_ATTRIBUTES = ("@jaeger@",)


def any_value(value: dict[str, Any] | None) -> Any:
    """An OTLP ``AnyValue`` object as a Python value."""
    if not value:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(item) for item in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return attributes((value["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def attributes(pairs: Iterable[dict[str, Any]] | None) -> dict[str, Any]:
    return {
        str(pair["key"]): any_value(pair.get("value"))
        for pair in pairs or []
        if "key" in pair and not str(pair["key"]).startswith(_STORE_ATTRIBUTES)
    }


def hex_id(value: str | None, length: int) -> str | None:
    """A trace or span id as lower-case hex, whether the store wrote hex or base64."""
    if not value:
        return None
    text = str(value).strip()
    if len(text) == length and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.lower()
    return raw.hex().rjust(length, "0") if raw else None


def _enum(value: Any, names: dict[int, str], prefix: str) -> str:
    if value is None or value == "":
        return names[0]
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return names.get(int(value), names[0])
    return str(value).removeprefix(prefix).lower() or names[0]


def spans(resource_spans: Iterable[dict[str, Any]] | None) -> list[Span]:
    """Every span of ``resourceSpans`` (``scopeSpans`` or the older ``instrumentationLibrarySpans``)."""
    found: list[Span] = []
    for resource_span in resource_spans or []:
        resource = attributes((resource_span.get("resource") or {}).get("attributes"))
        service = str(resource.get("service.name", ""))
        scopes = resource_span.get("scopeSpans") or resource_span.get("instrumentationLibrarySpans") or []
        for scope in scopes:
            for raw in scope.get("spans") or []:
                found.append(_span(raw, service))
    return found


def _span(raw: dict[str, Any], service: str) -> Span:
    status = raw.get("status") or {}
    return Span(
        trace_id=hex_id(raw.get("traceId"), 32) or "",
        span_id=hex_id(raw.get("spanId"), 16) or "",
        parent_span_id=hex_id(raw.get("parentSpanId"), 16),
        name=str(raw.get("name", "")),
        kind=_enum(raw.get("kind"), _KINDS, "SPAN_KIND_"),
        service=service,
        start_unix_nano=int(raw.get("startTimeUnixNano") or 0),
        end_unix_nano=int(raw.get("endTimeUnixNano") or 0),
        status=_enum(status.get("code"), _STATUSES, "STATUS_CODE_"),
        status_message=str(status.get("message", "")),
        attributes=attributes(raw.get("attributes")),
        events=[
            SpanEvent(
                name=str(event.get("name", "")),
                time_unix_nano=int(event.get("timeUnixNano") or 0),
                attributes=attributes(event.get("attributes")),
            )
            for event in raw.get("events") or []
        ],
    )
