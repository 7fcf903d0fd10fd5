"""Anomaly job end to end: a series from a real Prometheus → detector → alert in a real Alertmanager.

How regularly a job runs on its interval is measured in ``bench/sidecar_timing.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import httpx

from otel_ops.sidecar.settings import SidecarSettings
from tests.collector.processes import Prometheus, free_port, http_get, wait_for
from tests.sidecar.servers import Alertmanager, Sidecar

DETECTOR = {
    "seasonal": None,
    "spike": {
        "calibration": {"warmup_points": 16, "history_points": 32},
        "error_points": 16,
        "reference_points": 16,
    },
}


def jobs_file(tmp_path: Path, query: str, name: str) -> Path:
    path = tmp_path / "jobs.json"
    job = {
        "name": name,
        "query": query,
        "interval_seconds": 1,
        "backfill_seconds": 240,
        "labels": {"service_name": "checkout"},
        "detector": DETECTOR,
    }
    path.write_text(json.dumps({"jobs": [job]}))
    return path


def range_queries_served(prometheus: Prometheus) -> int:
    """How many ``/api/v1/query_range`` requests Prometheus has answered (each run of a job makes one)."""
    _, body = http_get(f"{prometheus.url}/metrics")
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in body.decode().splitlines()
        if line.startswith("prometheus_http_requests_total{") and 'handler="/api/v1/query_range"' in line
    )


def metric_value(exposition: str, series: str) -> float:
    """The value of one series in a Prometheus text exposition."""
    [line] = [line for line in exposition.splitlines() if line.startswith(series + " ")]
    return float(line.rsplit(" ", 1)[1])


def test_error_burst_raises_an_alert(
    prometheus: Prometheus, alertmanager: Alertmanager, tmp_path: Path
) -> None:
    # A series Prometheus computes for any time range: a steady, noisy error rate, then a burst 5 s ago.
    burst_at = int(time.time()) - 5
    query = f"vector(10 + (time() % 7) / 3 + 80 * (time() >= bool {burst_at}))"
    settings = SidecarSettings(
        port=free_port(),
        data_dir=tmp_path / "data",
        prometheus_url=prometheus.url,
        alertmanager_url=alertmanager.url,
        anomaly_jobs_file=jobs_file(tmp_path, query, "checkout-errors"),
        check_interval=3600,
    )
    with Sidecar(settings) as sidecar:
        alerts = wait_for(
            lambda: [a for a in alertmanager.alerts() if a["labels"].get("anomaly_job") == "checkout-errors"],
            20,
            "anomaly alert in Alertmanager",
        )
        metrics = httpx.get(f"{sidecar.url}/metrics").text
    alert = alerts[0]
    assert alert["labels"]["alertname"] == "OtelOpsAnomaly"
    assert alert["labels"]["service_name"] == "checkout" and alert["labels"]["severity"] == "ticket"
    assert float(alert["annotations"]["anomaly_score"]) >= 0.5
    starts = dt.datetime.fromisoformat(alert["startsAt"]).timestamp()
    assert abs(starts - burst_at) <= 1, (alert["startsAt"], burst_at)
    assert 'otel_ops_anomaly_score{job="checkout-errors",series="{}"}' in metrics
    assert 'otel_ops_anomaly_job_consecutive_failures{job="checkout-errors"} 0.0' in metrics
    # what the AnomalyJobStalled alert compares: a recent success, and the job's interval
    last_success = 'otel_ops_anomaly_job_last_success_timestamp_seconds{job="checkout-errors"}'
    assert time.time() - metric_value(metrics, last_success) < 60
    assert metric_value(metrics, 'otel_ops_anomaly_job_interval_seconds{job="checkout-errors"}') > 0


def test_steady_series_is_scored_without_alerts(
    prometheus: Prometheus, alertmanager: Alertmanager, tmp_path: Path
) -> None:
    settings = SidecarSettings(
        port=free_port(),
        data_dir=tmp_path / "data",
        prometheus_url=prometheus.url,
        alertmanager_url=alertmanager.url,
        anomaly_jobs_file=jobs_file(tmp_path, "vector(10 + (time() % 7) / 3)", "steady"),
        check_interval=3600,
    )
    with Sidecar(settings) as sidecar:
        wait_for(
            lambda: (
                'otel_ops_anomaly_score{job="steady",series="{}"}' in httpx.get(f"{sidecar.url}/metrics").text
            ),
            10,
            "steady series scored",
        )
        # Two more runs started, so the run that scored the backfill and the one after it have finished,
        # alerts included (a run sends its alerts before the next one asks Prometheus).
        runs = range_queries_served(prometheus)
        wait_for(lambda: range_queries_served(prometheus) >= runs + 2, 20, "two more runs of the job")
    assert not [a for a in alertmanager.alerts() if a["labels"].get("anomaly_job") == "steady"]


def test_prometheus_down_backs_off_and_keeps_serving(alertmanager: Alertmanager, tmp_path: Path) -> None:
    settings = SidecarSettings(
        port=free_port(),
        data_dir=tmp_path / "data",
        prometheus_url=f"http://127.0.0.1:{free_port()}",
        alertmanager_url=alertmanager.url,
        anomaly_jobs_file=jobs_file(tmp_path, "vector(1)", "blind"),
        check_interval=3600,
    )
    with Sidecar(settings) as sidecar:
        wait_for(
            lambda: (
                'otel_ops_anomaly_job_consecutive_failures{job="blind"} 1.0'
                in httpx.get(f"{sidecar.url}/metrics").text
            ),
            10,
            "failure counted while Prometheus is down",
        )
        assert httpx.get(f"{sidecar.url}/health/live").status_code == 200
        metrics = httpx.get(f"{sidecar.url}/metrics").text
        assert 'otel_ops_anomaly_job_last_success_timestamp_seconds{job="blind"}' not in metrics  # never ran
        runner_state = sidecar.app.state.sidecar
        assert runner_state.tasks and not any(task.done() for task in runner_state.tasks)
