"""One real pipeline (Collector, Jaeger, VictoriaLogs, Prometheus, an instrumented service) for the
explain tests, with known traffic already arrived in every store."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.explain.pipeline import Pipeline, running_pipeline
from tests.support.ports import free_port


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    with running_pipeline(tmp_path_factory.mktemp("explain")) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


@pytest.fixture
def closed_url() -> str:
    """A loopback URL nothing listens on: a store that is down."""
    return f"http://127.0.0.1:{free_port()}"
