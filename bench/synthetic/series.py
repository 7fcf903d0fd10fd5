"""Synthetic operations series with known ground truth, each with a twin that has no anomaly.

Every kind draws its noise from ``numpy.random.default_rng(seed)`` and the twin uses the same draws, so
the injected anomaly is the only difference between the two.  Traffic follows a daily cycle with quieter
weekends (the series start on a Monday, 00:00 UTC).

Kinds (what an operator would want an alert for):

* ``error_rate_spike``: 5xx ratio of ~1 % (binomial on Poisson traffic) jumps to 8 % for 20 minutes.
* ``latency_step``: p95 latency (log-normal noise, slower under load) steps up by 50 % and stays there.
* ``memory_leak``: resident memory with a garbage-collector sawtooth starts to grow linearly and reaches
  its limit six hours later (the series' ``limit``).
* ``traffic_drop``: requests per second (Poisson, daily cycle) fall to zero for an hour.
* ``stuck_value``: a CPU-utilisation gauge freezes at its last value for two hours (an exporter stuck).
* ``bursty_counts``: an hourly batch job's processed-items count (over-dispersed bursts, near zero
  between them) stops bursting for four hours.

Each kind has a documented maximum detection delay (``MAX_DELAY``, from the onset), set by what an operator
needs from the alert, not by what a detector achieves:

* ``error_rate_spike``: 5 minutes. Users see errors while it lasts (20 minutes); a page must come early
  enough to act during the incident, as the short window of a fast-burn SLO alert does (5 minutes).
* ``latency_step``: 15 minutes. A degradation that stays, not an outage: it must be flagged before it
  becomes the new normal, within a quarter of an hour, but not within the minute.
* ``memory_leak``: 2 hours. The process reaches its limit 6 hours after the onset; an alert 2 hours in
  still leaves 4 hours (the exhaustion forecast's default horizon) to find the leak and restart or roll back.
* ``traffic_drop``: 5 minutes. No traffic at all is an outage (or lost scraping): as urgent as the spike.
* ``stuck_value``: 30 minutes. A frozen gauge is harmless by itself but blinds every alert on it (a CPU
  alert that needs 10-15 minutes above a threshold cannot fire): the blind spot should be found within
  about twice that time.
* ``bursty_counts``: 2 hours. One missing run of an hourly job can be a slow or skipped run; two missing
  runs in a row mean the job no longer runs. The alert is due by the time the second run is overdue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

START = 1_704_067_200.0  # 2024-01-01 00:00 UTC, a Monday
DAY = 86_400.0
WEEK = 7 * DAY
MINUTE = 60.0
HOUR = 3600.0

MAX_DELAY: dict[str, float] = {  # seconds from the onset; see the module docstring for why
    "error_rate_spike": 5 * MINUTE,
    "latency_step": 15 * MINUTE,
    "memory_leak": 2 * HOUR,
    "traffic_drop": 5 * MINUTE,
    "stuck_value": 30 * MINUTE,
    "bursty_counts": 2 * HOUR,
}


@dataclass(frozen=True)
class SyntheticSeries:
    """One series; ``anomaly`` is ``(onset, end)`` in Unix seconds, or None for a twin."""

    kind: str
    timestamps: np.ndarray
    values: np.ndarray
    anomaly: tuple[float, float] | None
    limit: float | None = None  # for an exhaustion forecast (memory_leak)
    direction: str = "up"  # which way the limit is approached

    @property
    def step_seconds(self) -> float:
        return float(self.timestamps[1] - self.timestamps[0])

    @property
    def weeks(self) -> float:
        return (float(self.timestamps[-1] - self.timestamps[0]) + self.step_seconds) / WEEK


@dataclass(frozen=True)
class _Frame:
    """What every kind starts from: times, the traffic cycle, the random generator and the onset."""

    timestamps: np.ndarray
    traffic: np.ndarray  # 0.25 .. 1.0
    rng: np.random.Generator
    onset: float
    step: float

    def during(self, duration: float) -> np.ndarray:
        return (self.timestamps >= self.onset) & (self.timestamps < self.onset + duration)


def _frame(seed: int, days: float, step: float, onset_day: float) -> _Frame:
    timestamps = START + np.arange(int(days * DAY / step)) * step
    hour = (timestamps % DAY) / 3600.0
    daily = 0.5 + 0.5 * np.cos(2 * np.pi * (hour - 15.0) / 24.0)  # peak 15:00, trough 03:00
    weekend = ((timestamps - START) // DAY % 7) >= 5
    traffic = 0.25 + 0.75 * daily * np.where(weekend, 0.6, 1.0)
    rng = np.random.default_rng(seed)
    onset = START + onset_day * DAY + 3600.0 * (10 + seed % 7)  # during the day, varying with the seed
    return _Frame(timestamps, traffic, rng, onset, step)


def error_rate_spike(frame: _Frame, inject: bool) -> tuple[np.ndarray, float, dict[str, float]]:
    requests = frame.rng.poisson(10.0 * frame.step * frame.traffic) + 1
    duration = 20 * 60.0
    errors = frame.rng.binomial(requests, 0.01)
    extra = frame.rng.binomial(requests, 0.07)  # drawn for the twin too: same noise in both
    if inject:
        errors = np.where(frame.during(duration), errors + extra, errors)
    return errors / requests, duration, {}


def latency_step(frame: _Frame, inject: bool) -> tuple[np.ndarray, float, dict[str, float]]:
    latency = 0.25 * (1 + 0.3 * frame.traffic) * frame.rng.lognormal(0.0, 0.08, frame.timestamps.size)
    duration = float(frame.timestamps[-1] - frame.onset) + frame.step
    if inject:
        latency[frame.timestamps >= frame.onset] *= 1.5
    return latency, duration, {}


def memory_leak(frame: _Frame, inject: bool) -> tuple[np.ndarray, float, dict[str, float]]:
    gib = 2.0**30
    limit = 2.0 * gib
    since_start = frame.timestamps - START
    sawtooth = 0.05 * gib * ((since_start % 600.0) / 600.0)
    memory = (
        1.2 * gib + sawtooth + 0.05 * gib * frame.traffic + frame.rng.normal(0, 0.005 * gib, since_start.size)
    )
    duration = 6 * 3600.0
    if inject:
        elapsed = np.clip(frame.timestamps - frame.onset, 0.0, None)
        memory = memory + (limit - 1.2 * gib) * np.minimum(elapsed / duration, 1.0)
        memory = np.minimum(memory, limit)
    return memory, duration, {"limit": limit}


def traffic_drop(frame: _Frame, inject: bool) -> tuple[np.ndarray, float, dict[str, float]]:
    duration = 3600.0
    requests = frame.rng.poisson(200.0 * frame.traffic * frame.step) / frame.step
    if inject:
        requests = np.where(frame.during(duration), 0.0, requests)
    return requests, duration, {}


def stuck_value(frame: _Frame, inject: bool) -> tuple[np.ndarray, float, dict[str, float]]:
    cpu = 30.0 + 40.0 * frame.traffic + frame.rng.normal(0.0, 3.0, frame.timestamps.size)
    duration = 2 * 3600.0
    if inject:
        during = frame.during(duration)
        cpu[during] = cpu[np.argmax(during) - 1]
    return np.clip(cpu, 0.0, 100.0), duration, {}


def bursty_counts(frame: _Frame, inject: bool) -> tuple[np.ndarray, float, dict[str, float]]:
    n = frame.timestamps.size
    background = frame.rng.poisson(0.3, n).astype(float)
    minute_of_hour = (frame.timestamps % 3600.0) / 60.0
    in_burst = minute_of_hour < max(3.0, frame.step / 60.0)
    # negative binomial (gamma-Poisson mixture): heavy-tailed burst sizes
    burst = frame.rng.poisson(frame.rng.gamma(2.0, 25.0, n)).astype(float)
    duration = 4 * 3600.0
    bursting = in_burst & ~frame.during(duration) if inject else in_burst
    return np.where(bursting, background + burst, background), duration, {}


KINDS: dict[str, Callable[[_Frame, bool], tuple[np.ndarray, float, dict[str, float]]]] = {
    "error_rate_spike": error_rate_spike,
    "latency_step": latency_step,
    "memory_leak": memory_leak,
    "traffic_drop": traffic_drop,
    "stuck_value": stuck_value,
    "bursty_counts": bursty_counts,
}


def generate(
    kind: str,
    seed: int,
    *,
    inject: bool = True,
    days: float = 14.0,
    step: float = 60.0,
    onset_day: float = 10.0,
) -> SyntheticSeries:
    """The series of ``kind`` (with its anomaly, or its twin with ``inject=False``), deterministic in
    ``seed``: ``days`` of points every ``step`` seconds, the anomaly starting on day ``onset_day``."""
    frame = _frame(seed, days, step, onset_day)
    values, duration, extra = KINDS[kind](frame, inject)
    anomaly = (frame.onset, frame.onset + duration) if inject else None
    return SyntheticSeries(
        kind, frame.timestamps, np.asarray(values, dtype=float), anomaly, limit=extra.get("limit")
    )


def pairs(seed: int, **options: float) -> list[tuple[SyntheticSeries, SyntheticSeries]]:
    """(with anomaly, twin) for every kind."""
    return [
        (generate(kind, seed, inject=True, **options), generate(kind, seed, inject=False, **options))  # type: ignore[arg-type]
        for kind in KINDS
    ]
