"""Schema-driven requests against the sidecar's own OpenAPI description: no input makes it answer 5xx,
and every answer is one the description documents (status code, content type, body schema, headers).

The sidecar runs with a real Prometheus and Alertmanager; hypothesis generates requests for every
operation (valid and invalid bodies, paths and queries). Excluded: the endless ``/events`` stream and the
operations that run a backup job (covered by the backup tests). Generation is derandomized (the same
requests on every run) and bounded per operation, so a run takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from otel_ops.sidecar.settings import SidecarSettings
from tests.collector.processes import free_port
from tests.sidecar.servers import Sidecar

TOKEN = "schema-run-token"


EXCLUDED = {("GET", "/events"), ("POST", "/api/v1/backups"), ("POST", "/api/v1/backups/{snapshot_id}/verify")}


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory: pytest.TempPathFactory, prometheus, alertmanager) -> Iterator[Sidecar]:
    settings_ = SidecarSettings(
        port=free_port(),
        data_dir=tmp_path_factory.mktemp("data"),
        api_token=TOKEN,
        prometheus_url=prometheus.url,
        alertmanager_url=alertmanager.url,
        collector_health_url=f"http://127.0.0.1:{free_port()}",
        check_interval=3600,
    )
    with Sidecar(settings_) as server:
        yield server


def _failing_health(path: str, response: object) -> bool:
    content_type = response.headers.get("content-type") or ""
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    body = response.json() if content_type.startswith("application/health+json") else {}
    return path.startswith("/health") and body.get("status") == "fail"


def _operations(schema: Any) -> Iterator[Any]:
    """The documented operations, but the excluded ones."""
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in EXCLUDED:
            yield operation


def test_no_generated_request_gets_a_server_error(sidecar: Sidecar) -> None:
    schema = schemathesis.openapi.from_url(f"{sidecar.url}/openapi.json")
    tested = []
    failures: list[str] = []
    for operation in _operations(schema):
        tested.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
            if response.status_code == 503 and _failing_health(case.formatted_path, response):
                return  # a failing critical dependency (here: no collector) is 503 by design
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                )

        run()
    assert len(tested) >= 8, tested  # every documented operation but the excluded ones
    assert not failures, "\n".join(failures[:10])


CONFORMANCE_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_is_documented_in_the_openapi_description(
    sidecar: Sidecar, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(f"{sidecar.url}/openapi.json")
    tested = []
    failures: list[str] = []
    for operation in _operations(schema):
        label = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=20,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            response = case.call(headers=headers, timeout=10)
            try:
                case.validate_response(response, checks=CONFORMANCE_CHECKS, headers=headers)
            except AssertionError as exc:  # schemathesis' failures are AssertionErrors naming the check
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {exc}")

        try:
            run()
        except Unsatisfiable:
            # Negative mode only: no input of this operation can break its description (plain strings).
            assert mode is GenerationMode.NEGATIVE, label
            continue
        tested.append(label)
    # Every operation but the excluded ones; in negative mode those with a constrained input.
    assert len(tested) >= (12 if mode is GenerationMode.POSITIVE else 6), tested
    assert not failures, "\n\n".join(failures[:10])
