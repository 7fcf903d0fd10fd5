"""The resource describing this service and process, kept right across ``fork``.

``process.pid`` and ``service.instance.id`` belong to the process, not to the code that configured
telemetry: a worker forked after configuration (gunicorn ``--preload``) gets its own values. They are
stamped on each export request, so every signal carries the exporting process' identity.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
import uuid
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.sdk.resources import Resource

from otel_ops._version import __version__
from otel_ops.instrumentation import _wire as wire

_PROCESS_KEYS = ("process.pid", "service.instance.id")


class ProcessIdentity:
    """Per-process resource attributes, renewed in a forked child."""

    def __init__(self) -> None:
        self._refresh()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._refresh)

    def _refresh(self) -> None:
        self._resource_bytes_key: tuple[int, int] | None = None
        self._resource_bytes = b""
        self.pid = os.getpid()
        self.instance_id = str(uuid.uuid4())
        self._key_values = [
            KeyValue(key="process.pid", value=AnyValue(int_value=self.pid)),
            KeyValue(key="service.instance.id", value=AnyValue(string_value=self.instance_id)),
        ]

    def resource_bytes(self, resource: Resource) -> bytes:
        """``resource`` with this process' identity, wire-encoded; cached per process."""
        key = (id(resource), self.pid)
        if self._resource_bytes_key != key:
            self._resource_bytes = wire.resource({**resource.attributes, **self.attributes()})
            self._resource_bytes_key = key
        return self._resource_bytes

    def attributes(self) -> dict[str, Any]:
        return {"process.pid": self.pid, "service.instance.id": self.instance_id}

    def stamp(self, resource_messages: Any) -> None:
        """Set this process' identity on every protobuf ``Resource`` in an export request."""
        for item in resource_messages:
            attributes = item.resource.attributes
            kept = [kv for kv in attributes if kv.key not in _PROCESS_KEYS]
            del attributes[:]
            attributes.extend(kept)
            attributes.extend(self._key_values)


def build_resource(
    service_name: str | None,
    env_attributes: dict[str, str],
    extra: dict[str, Any] | None,
    identity: ProcessIdentity,
) -> Resource:
    """service.name: argument > OTEL_SERVICE_NAME > OTEL_RESOURCE_ATTRIBUTES > ``unknown_service:<exe>``."""
    attributes: dict[str, Any] = {
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.distro.name": "otel-ops",
        "telemetry.distro.version": __version__,
        "process.runtime.name": sys.implementation.name,
        "process.runtime.version": platform.python_version(),
        "process.executable.name": os.path.basename(sys.executable),
        "host.name": socket.gethostname(),
    }
    try:
        from opentelemetry.sdk.version import __version__ as sdk_version

        attributes["telemetry.sdk.version"] = sdk_version
    except ImportError:  # pragma: no cover - the SDK always ships its version module
        pass
    attributes.update(env_attributes)
    attributes.update(extra or {})
    if service_name:
        attributes["service.name"] = service_name
    attributes.setdefault("service.name", f"unknown_service:{os.path.basename(sys.executable)}")
    attributes.update(identity.attributes())
    return Resource(attributes)
