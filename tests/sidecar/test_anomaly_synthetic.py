"""Synthetic series with known ground truth: deterministic, and the twin differs only in the anomaly."""

from __future__ import annotations

import numpy as np
import pytest

from bench.synthetic.run import new_alerts
from bench.synthetic.series import KINDS, generate
from otel_ops.sidecar.anomaly import AnomalyResult

OPTIONS = {"days": 3.0, "onset_day": 2.0}


@pytest.mark.parametrize("kind", list(KINDS))
def test_twin_equals_the_series_outside_the_anomaly_and_differs_inside(kind: str) -> None:
    anomalous = generate(kind, 1, **OPTIONS)
    twin = generate(kind, 1, inject=False, **OPTIONS)
    assert anomalous.anomaly is not None and twin.anomaly is None
    onset, end = anomalous.anomaly
    before, after = anomalous.timestamps < onset, anomalous.timestamps >= end
    inside = ~before & ~after
    assert np.array_equal(anomalous.timestamps, twin.timestamps)
    assert np.array_equal(anomalous.values[before], twin.values[before])
    if kind != "memory_leak":  # an exhausted process stays at its limit
        assert np.array_equal(anomalous.values[after], twin.values[after])
    assert np.sum(anomalous.values[inside] != twin.values[inside]) >= 3
    assert np.all(np.isfinite(anomalous.values))


@pytest.mark.parametrize("kind", list(KINDS))
def test_same_seed_same_series_other_seed_other_noise(kind: str) -> None:
    first, again, other = (generate(kind, seed, **OPTIONS) for seed in (3, 3, 4))
    assert np.array_equal(first.values, again.values)
    assert not np.array_equal(first.values, other.values)


def test_memory_leak_reaches_its_limit_when_the_anomaly_ends() -> None:
    leak = generate("memory_leak", 0, **OPTIONS)
    assert leak.anomaly is not None and leak.limit is not None
    after = leak.timestamps >= leak.anomaly[1]
    assert np.all(leak.values[after] == leak.limit)
    assert np.all(leak.values[leak.timestamps < leak.anomaly[0]] < 0.8 * leak.limit)


def alerting(timestamp: float, incident_start: float | None) -> AnomalyResult:
    return AnomalyResult(timestamp, 1.0, 1.0, is_anomaly=True, incident_start=incident_start)


def test_alerts_are_counted_as_alertmanager_takes_them() -> None:
    quiet = AnomalyResult(0.0, 1.0, 0.0)
    results = [
        alerting(60, 60),
        alerting(120, 60),  # the same incident refreshes its alert
        alerting(240, 240),  # a new incident is a new alert, even while the first still fires
        quiet,
        alerting(300, 240),
        alerting(901, 240),  # ten minutes without an alerting point: that alert resolved, this fires again
    ]
    assert new_alerts(results, resolve_after=600) == [60, 240, 901]
