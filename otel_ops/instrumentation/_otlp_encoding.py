"""Protobuf encoding helpers shared by the signal exporters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as PbResource


def encode_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, Sequence):
        return AnyValue(array_value=ArrayValue(values=[encode_value(v) for v in value]))
    if value is None:
        return AnyValue()
    return AnyValue(string_value=str(value))


def encode_attributes(attributes: Mapping[str, Any] | None) -> list[KeyValue]:
    if not attributes:
        return []
    return [KeyValue(key=str(k), value=encode_value(v)) for k, v in attributes.items()]


def encode_resource(resource: Any) -> PbResource:
    return PbResource(attributes=encode_attributes(resource.attributes))
