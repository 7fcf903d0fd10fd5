"""Health check results in the IETF health-check draft format (``application/health+json``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

HEALTH_MEDIA_TYPE = "application/health+json"


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    @property
    def metric_value(self) -> float:
        return {Status.PASS: 1.0, Status.WARN: 0.5, Status.FAIL: 0.0}[self]


@dataclass(frozen=True)
class Outcome:
    """What one check observed."""

    status: Status
    observed_value: float | int | str | None = None
    observed_unit: str | None = None
    output: str | None = None


@dataclass(frozen=True)
class Check:
    """One named check: ``key`` is ``component:measurement``; ``component_id`` tells instances apart."""

    key: str
    component_id: str
    component_type: str
    critical: bool
    run: Callable[[], Awaitable[Outcome]]

    @property
    def component(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def ident(self) -> str:
        return f"{self.key}/{self.component_id}"


@dataclass(frozen=True)
class CheckResult:
    check: Check
    outcome: Outcome
    time: dt.datetime
    monotonic: float = field(compare=False)

    @property
    def status(self) -> Status:
        return self.outcome.status

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "componentId": self.check.component_id,
            "componentType": self.check.component_type,
            "status": self.outcome.status.value,
            "time": self.time.isoformat(),
            "critical": self.check.critical,
        }
        if self.outcome.observed_value is not None:
            entry["observedValue"] = self.outcome.observed_value
        if self.outcome.observed_unit is not None:
            entry["observedUnit"] = self.outcome.observed_unit
        if self.outcome.output:
            entry["output"] = self.outcome.output
        return entry


def overall(results: Iterable[CheckResult]) -> Status:
    """``fail`` if a critical check fails; ``warn`` if any other check is not passing; else ``pass``."""
    status = Status.PASS
    for result in results:
        if result.status is Status.FAIL and result.check.critical:
            return Status.FAIL
        if result.status is not Status.PASS:
            status = Status.WARN
    return status


def http_status(status: Status) -> int:
    return 503 if status is Status.FAIL else 200
