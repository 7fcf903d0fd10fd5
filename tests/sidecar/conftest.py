"""Fixtures: a real Prometheus and a real Alertmanager per module, on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.collector.processes import Prometheus, start_prometheus
from tests.sidecar.servers import Alertmanager, start_alertmanager


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    server = start_prometheus(tmp_path_factory.mktemp("prometheus"))
    yield server
    server.process.stop()


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    server = start_alertmanager(tmp_path_factory.mktemp("alertmanager"))
    yield server
    server.process.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
