"""Fixtures for tests against the real otel-ops Collector binary."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_ops.stack import collector_build


@pytest.fixture(scope="session")
def collector_binary() -> Path:
    """The built Collector; built on first use. A failed build fails the tests with the reason."""
    try:
        return collector_build.ensure_collector()
    except collector_build.CollectorBuildError as exc:
        pytest.fail(f"building the Collector failed:\n{exc}", pytrace=False)


@pytest.fixture(scope="session")
def config_dir() -> Path:
    return collector_build.config_dir()
