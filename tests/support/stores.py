"""The real trace and log stores (Jaeger v2, VictoriaLogs) and a Collector in front of them, for tests.

Each runs exactly as ``otel-ops up`` runs it (:mod:`otel_ops.stack.components`), on free loopback ports with
its data in a test directory. Binaries are built (and cached) on first use; a failed build fails the test.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from rich.console import Console

from otel_ops.stack import collector_build, components, store_build
from otel_ops.stack.ports import COMPONENT_PORTS, StackPorts
from otel_ops.stack.processes import ManagedProcess
from tests.support.ports import free_ports


def free_stack_ports(*components_: str) -> StackPorts:
    """StackPorts with a free loopback port for every port of ``components_`` (all components when none)."""
    names = [attr for name in components_ or tuple(COMPONENT_PORTS) for attr in COMPONENT_PORTS[name]]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    return replace(StackPorts(host="127.0.0.1"), **ports)


def store_binary(name: str) -> Path:
    try:
        return store_build.ensure_store(name, console=Console(stderr=True))
    except store_build.BuildError as exc:
        pytest.fail(f"building {name} failed:\n{exc}", pytrace=False)


def collector_binary() -> Path:
    try:
        return collector_build.ensure_collector()
    except collector_build.CollectorBuildError as exc:
        pytest.fail(f"building the Collector failed:\n{exc}", pytrace=False)


@dataclass
class Stores:
    """Running Jaeger, VictoriaLogs and a Collector sending them traces and logs."""

    ports: StackPorts
    state: Path
    processes: dict[str, ManagedProcess]

    @property
    def jaeger_url(self) -> str:
        return self.ports.url("jaeger")

    @property
    def victorialogs_url(self) -> str:
        return self.ports.url("victorialogs")

    @property
    def otlp_http(self) -> str:
        """The Collector's OTLP/HTTP endpoint (base URL, without ``/v1/<signal>``)."""
        return self.ports.url("collector")

    def stop(self, name: str) -> int | None:
        return self.processes[name].stop()

    def stop_all(self) -> None:
        """Stop every process, the Collector first (reverse start order)."""
        for process in reversed(list(self.processes.values())):
            process.stop()

    def start(self, name: str, timeout: float = 60.0) -> None:
        """(Re)start ``name`` on the same ports and data directory."""
        process = self._process(name)
        self.processes[name] = process
        process.start()
        process.wait_ready(timeout)

    def _process(self, name: str) -> ManagedProcess:
        if name == "jaeger":
            return components.jaeger_process(store_binary("jaeger"), self.ports, self.state, "1d")
        if name == "victorialogs":
            return components.victorialogs_process(store_binary("victorialogs"), self.ports, self.state, "1d")
        if name == "collector":
            return components.collector_process(
                collector_binary(), self.ports, self.state, "1s", ("jaeger", "victorialogs")
            )
        raise ValueError(name)


@contextmanager
def running_stores(state: Path, with_collector: bool = True) -> Iterator[Stores]:
    """Jaeger and VictoriaLogs (and the Collector in front of them) until the block ends."""
    ports = free_stack_ports("jaeger", "victorialogs", "collector", "prometheus")
    stores = Stores(ports=ports, state=state, processes={})
    names = ["jaeger", "victorialogs", *(["collector"] if with_collector else [])]
    with ExitStack() as cleanup:
        cleanup.callback(stores.stop_all)
        for name in names:
            stores.start(name)
        yield stores


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-protobuf"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status


def send_span_and_log(
    otlp_http: str, trace_id: str, span_name: str, message: str, service: str = "store-test"
) -> None:
    """POST one server span and one log line of trace ``trace_id`` (32 hex digits) to OTLP/HTTP."""
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value=service))])
    now = time.time_ns()
    span_id = bytes.fromhex(trace_id[:16])
    span = Span(
        trace_id=bytes.fromhex(trace_id),
        span_id=span_id,
        name=span_name,
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=now - 5_000_000,
        end_time_unix_nano=now,
    )
    record = LogRecord(
        time_unix_nano=now,
        severity_number=9,
        severity_text="INFO",
        body=AnyValue(string_value=message),
        trace_id=bytes.fromhex(trace_id),
        span_id=span_id,
    )
    spans = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=[span])])]
    )
    logs = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=resource, scope_logs=[ScopeLogs(log_records=[record])])]
    )
    _post(f"{otlp_http}/v1/traces", spans.SerializeToString())
    _post(f"{otlp_http}/v1/logs", logs.SerializeToString())


def jaeger_spans(jaeger_url: str, trace_id: str) -> list[dict[str, Any]]:
    """The spans Jaeger returns for ``trace_id`` as OTLP JSON (``/api/v3``), each with its resource's
    attributes under ``resource``; empty when it has none or is unreachable."""
    try:
        with urllib.request.urlopen(f"{jaeger_url}/api/v3/traces/{trace_id}", timeout=5) as response:
            data = json.loads(response.read())
    except (urllib.error.URLError, OSError):
        return []
    return [
        {**span, "resource": resource.get("resource", {})}
        for resource in data.get("result", {}).get("resourceSpans", [])
        for scope in resource.get("scopeSpans", [])
        for span in scope.get("spans", [])
    ]


def jaeger_span_names(jaeger_url: str, trace_id: str) -> list[str]:
    """Names of the spans Jaeger returns for ``trace_id`` (empty when it has none)."""
    return [span["name"] for span in jaeger_spans(jaeger_url, trace_id)]


def victorialogs_records(victorialogs_url: str, query: str) -> list[dict[str, str]]:
    """The log records a LogsQL query returns (empty when none or the store is unreachable)."""
    body = urllib.parse.urlencode({"query": query}).encode()
    try:
        url = f"{victorialogs_url}/select/logsql/query"
        with urllib.request.urlopen(url, data=body, timeout=5) as response:
            lines = response.read().decode().splitlines()
    except (urllib.error.URLError, OSError):
        return []
    return [json.loads(line) for line in lines if line.strip()]
