"""Alerts a job could not deliver wait for Alertmanager as one entry per alert, not one per point."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import httpx
import pytest

from otel_ops.sidecar.alerts.client import AlertmanagerClient, AlertmanagerError
from otel_ops.sidecar.anomaly.reasons import DETECTOR_REASONS
from otel_ops.sidecar.events import EventBus
from otel_ops.sidecar.jobs import AnomalyJob
from otel_ops.sidecar.jobs.state import MAX_PENDING_ALERTS, JobState
from tests.collector.processes import Prometheus, free_port
from tests.sidecar.servers import Alertmanager, job_runner
from tests.sidecar.test_sidecar_jobs import DETECTOR


def test_an_incident_waits_for_alertmanager_as_one_alert_with_its_first_start(
    prometheus: Prometheus, alertmanager: Alertmanager
) -> None:
    # 240 one-second points: steady noise, then from 60 s ago an outage (zero). The noise repeats every
    # 101 s; at this phase of it the outage's first point scores below 1 and its third 1.0, so two points
    # of one incident alert while Alertmanager is down (at some phases only the first point alerts).
    now = float(int(time.time()) - (int(time.time()) - 1_796_000_000) % 101)
    drop_at = int(now) - 60
    query = f"vector((10 + ((time() * 7919) % 101) / 300) * (time() < bool {drop_at}))"
    job = AnomalyJob(name="outage", query=query, interval_seconds=1, backfill_seconds=240, detector=DETECTOR)
    alerting_points: list[str] = []
    reasons: list[str | None] = []

    class RecordedEvents(EventBus):
        def publish(self, event_type: str, data: dict[str, Any]) -> None:
            if event_type == "anomaly":
                alerting_points.append(data["time"])
                reasons.append(data["reason"])
            super().publish(event_type, data)

    async def run() -> int:
        async with httpx.AsyncClient(timeout=10) as http:
            events = RecordedEvents()
            events.bind(asyncio.get_running_loop())
            runner = job_runner(job, prometheus.url, f"http://127.0.0.1:{free_port()}", http, events=events)
            with pytest.raises(AlertmanagerError):
                await runner.run_once(job, now=now)  # Alertmanager is down
            state = runner.states[job.name]
            held = len(state.pending)
            runner.alertmanager = AlertmanagerClient(alertmanager.url, http)  # back up
            await runner.run_once(job, now=now + 1)
            assert not state.pending
            runner.close()
            return held

    held = asyncio.run(run())
    alerts = [a for a in alertmanager.alerts() if a["labels"].get("anomaly_job") == "outage"]
    assert len(alerting_points) >= 2, alerting_points  # the outage alerted on more than one point
    # each anomaly event says why in words, as its alert's anomaly_reason does
    labels = {label for label, _ in DETECTOR_REASONS.values()}
    assert all(r is not None and r.split(":")[0] in labels for r in reasons), reasons
    assert {a["annotations"]["anomaly_reason"] for a in alerts} <= set(reasons), (alerts, reasons)
    assert held == len(alerts) < len(alerting_points), (held, alerts, alerting_points)
    # each alert starts at its incident's first point, as if Alertmanager had received every point
    for alert in alerts:
        incident = alert["labels"]["anomaly_incident"]
        assert dt.datetime.fromisoformat(alert["startsAt"]) == dt.datetime.fromisoformat(incident), alert
    first = min(dt.datetime.fromisoformat(a["startsAt"]).timestamp() for a in alerts)
    assert drop_at <= first < drop_at + 5, (drop_at, alerts)


def alert(incident: int, point: int) -> dict[str, Any]:
    at = dt.datetime.fromtimestamp(1_796_000_000 + incident * 3600 + point, dt.UTC).isoformat()
    return {
        "labels": {"alertname": "OtelOpsAnomaly", "anomaly_incident": str(incident)},
        "annotations": {"anomaly_score": str(point)},
        "startsAt": at,
        "endsAt": at,
    }


def test_held_alerts_are_one_per_incident_and_bounded() -> None:
    state = JobState()
    for point in range(1000):
        state.hold(alert(incident=0, point=point))
    [held] = state.pending.values()
    assert held["startsAt"] == alert(0, 0)["startsAt"] and held["endsAt"] == alert(0, 999)["endsAt"]
    assert held["annotations"] == {"anomaly_score": "999"}
    for incident in range(1, MAX_PENDING_ALERTS + 10):
        state.hold(alert(incident, 0))
    incidents = [a["labels"]["anomaly_incident"] for a in state.pending.values()]
    assert len(incidents) == MAX_PENDING_ALERTS
    assert incidents[-1] == str(MAX_PENDING_ALERTS + 9) and "0" not in incidents  # the oldest went first
