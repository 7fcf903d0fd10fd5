"""Protobuf wire-format encoding of OTLP messages, for the export worker's hot loop.

Building OTLP requests through protobuf's Python objects costs tens of microseconds per span, all of it
holding the GIL the application needs. These functions write the same bytes directly: field numbers from
``opentelemetry/proto`` (``trace.proto``, ``logs.proto``, ``common.proto``), checked against the generated
classes in the tests. Attribute key/value pairs repeat across telemetry (method, route, status, model), so
their encoding is cached (bounded).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_pack_q = struct.Struct("<Q").pack
_pack_i = struct.Struct("<I").pack
_pack_d = struct.Struct("<d").pack

_VARINT_CACHE = [bytes([n]) for n in range(128)]
_KV_CACHE: dict[tuple[str, Any], bytes] = {}
_KV_CACHE_LIMIT = 8192
_CACHED_VALUE_LENGTH = 40


def varint(value: int) -> bytes:
    if 0 <= value < 128:
        return _VARINT_CACHE[value]
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    return varint((field << 3) | wire_type)


def length_delimited(field: int, data: bytes) -> bytes:
    return tag(field, 2) + varint(len(data)) + data


def string(field: int, value: str) -> bytes:
    return length_delimited(field, value.encode("utf-8", "surrogatepass"))


def fixed64(field: int, value: int) -> bytes:
    return tag(field, 1) + _pack_q(value)


def fixed32(field: int, value: int) -> bytes:
    return tag(field, 5) + _pack_i(value)


def varint_field(field: int, value: int) -> bytes:
    return tag(field, 0) + varint(value)


def any_value(value: Any) -> bytes:
    """``AnyValue``: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7."""
    if isinstance(value, str):
        return string(1, value)
    if isinstance(value, bool):
        return varint_field(2, int(value))
    if isinstance(value, int):
        return varint_field(3, value)
    if isinstance(value, float):
        return tag(4, 1) + _pack_d(value)
    if isinstance(value, bytes):
        return length_delimited(7, value)
    if isinstance(value, Mapping):
        return length_delimited(6, b"".join(length_delimited(1, key_value(k, v)) for k, v in value.items()))
    if isinstance(value, Sequence):
        return length_delimited(5, b"".join(length_delimited(1, any_value(v)) for v in value))
    if value is None:
        return b""
    return string(1, str(value))


def _cacheable(value: Any) -> bool:
    """Short values repeat (methods, routes, models, finish reasons); long ones rarely do, and would make
    the bounded caches hold megabytes."""
    if isinstance(value, (str, bytes)):
        return len(value) <= _CACHED_VALUE_LENGTH
    if isinstance(value, tuple):
        return len(value) <= 8 and all(not isinstance(v, tuple) and _cacheable(v) for v in value)
    return True


def key_value(key: str, value: Any) -> bytes:
    """``KeyValue``: key 1, value 2; cached for short hashable values."""
    try:
        cached = _KV_CACHE.get((key, value))
    except TypeError:  # unhashable (a list attribute)
        return string(1, key) + length_delimited(2, any_value(value))
    if cached is None:
        cached = string(1, key) + length_delimited(2, any_value(value))
        if len(_KV_CACHE) < _KV_CACHE_LIMIT and _cacheable(value):
            _KV_CACHE[(key, value)] = cached
    return cached


_FIELD_KV_CACHE: dict[tuple[int, str, Any], bytes] = {}


def attributes(field: int, attrs: Mapping[str, Any] | None) -> bytes:
    """Repeated ``KeyValue`` field ``field``; each (field, key, value) encoded once (bounded cache)."""
    if not attrs:
        return b""
    cache = _FIELD_KV_CACHE
    parts = []
    for key, value in attrs.items():
        try:
            encoded = cache.get((field, key, value))
        except TypeError:  # unhashable (a list attribute)
            parts.append(length_delimited(field, key_value(key, value)))
            continue
        if encoded is None:
            encoded = length_delimited(field, string(1, key) + length_delimited(2, any_value(value)))
            if len(cache) < _KV_CACHE_LIMIT and _cacheable(value):
                cache[(field, key, value)] = encoded  # the common pairs come first and stay
        parts.append(encoded)
    return b"".join(parts)


def resource(attrs: Mapping[str, Any]) -> bytes:
    """``Resource``: attributes 1."""
    return attributes(1, attrs)


def scope(name: str, version: str | None = None) -> bytes:
    """``InstrumentationScope``: name 1, version 2."""
    return string(1, name) + (string(2, version) if version else b"")


def resource_group(resource_bytes: bytes, scope_groups: Iterable[tuple[bytes, Iterable[bytes]]]) -> bytes:
    """One ``ResourceSpans``/``ResourceLogs`` (resource 1, scope groups 2; each: scope 1, items 2) as field 1
    of an export request. Requests concatenate: their resource groups add up."""
    body = length_delimited(1, resource_bytes)
    for scope_bytes, items in scope_groups:
        body += length_delimited(
            2, length_delimited(1, scope_bytes) + b"".join(length_delimited(2, item) for item in items)
        )
    return length_delimited(1, body)
