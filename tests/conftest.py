"""Suite-wide rules.

In CI (``CI=true``) every component a test needs is installed by ``scripts/setup.sh``: a test that skips
because one is missing hides a broken set-up, so there a skip is reported as a failure with its reason.
Outside CI a missing component skips as usual (a developer may not have PostgreSQL installed).
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not (_in_ci() and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped in CI, where every required component must be present: {reason}"
