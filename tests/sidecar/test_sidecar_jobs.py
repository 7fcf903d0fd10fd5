"""Anomaly job end to end: a series from a real Prometheus → detector → alert in a real Alertmanager.

How regularly a job runs on its interval is measured in ``bench/sidecar_timing.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

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


def job_settings(
    tmp_path: Path, prometheus_url: str, alertmanager: Alertmanager, query: str, name: str
) -> SidecarSettings:
    """A sidecar running one anomaly job (no health rounds to speak of)."""
    return SidecarSettings(
        port=free_port(),
        data_dir=tmp_path / "data",
        prometheus_url=prometheus_url,
        alertmanager_url=alertmanager.url,
        anomaly_jobs_file=jobs_file(tmp_path, query, name),
        check_interval=3600,
    )


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
    settings = job_settings(tmp_path, prometheus.url, alertmanager, query, "checkout-errors")
    with Sidecar(settings) as sidecar:
        alerts = wait_for(
            lambda: [a for a in alertmanager.alerts() if a["labels"].get("anomaly_job") == "checkout-errors"],
            20,
            "anomaly alert in Alertmanager",
        )
        metrics = httpx.get(f"{sidecar.url}/metrics").text
        [job] = wait_for(
            lambda: [
                check
                for check in httpx.get(f"{sidecar.url}/health/detailed").json()["checks"]["anomaly-job:runs"]
                if "observedValue" in check
            ],
            20,
            "the job's health check after its first run",
        )
    alert = min(alerts, key=lambda a: dt.datetime.fromisoformat(a["startsAt"]))  # the burst's first
    assert alert["labels"]["alertname"] == "OtelOpsAnomaly"
    assert alert["labels"]["service_name"] == "checkout" and alert["labels"]["severity"] == "ticket"
    assert float(alert["annotations"]["anomaly_score"]) >= 0.5
    # Why it alerted, in words: the strongest evidence (a jump from about 11 to 91 is a spike or a record).
    reason = alert["annotations"]["anomaly_reason"]
    assert reason.split(":")[0] in {"spike / level shift", "value novelty"}, reason
    assert alert["annotations"]["description"].endswith(f" Strongest evidence: {reason}.")
    assert alert["annotations"]["summary"].endswith(f"; {reason.split(':')[0]})"), alert["annotations"]
    starts = dt.datetime.fromisoformat(alert["startsAt"]).timestamp()
    assert abs(starts - burst_at) <= 1, (alert["startsAt"], burst_at)
    assert 'otel_ops_anomaly_score{job="checkout-errors",series="{}"}' in metrics
    assert 'otel_ops_anomaly_job_consecutive_failures{job="checkout-errors"} 0.0' in metrics
    # what the AnomalyJobStalled alert compares: a recent success, and the job's interval
    last_success = 'otel_ops_anomaly_job_last_success_timestamp_seconds{job="checkout-errors"}'
    assert time.time() - metric_value(metrics, last_success) < 60
    assert metric_value(metrics, 'otel_ops_anomaly_job_interval_seconds{job="checkout-errors"}') > 0
    assert job["componentId"] == "checkout-errors" and job["status"] == "pass", job
    assert (job["observedValue"], job["observedUnit"]) == (1, "series"), job


def test_an_outage_right_after_an_alert_is_a_new_alert(
    prometheus: Prometheus, alertmanager: Alertmanager, tmp_path: Path
) -> None:
    # A one-second blip up, then 20 s later the series drops to zero: the outage is not a refresh of the
    # alert still firing for the blip (Alertmanager would not notify it), but an alert of its own. The
    # noise repeats every 101 s, longer than the detector's history (a 7 s cycle would make every surprise
    # a repeat, and the smallest difference look impossibly rare).
    blip_at = int(time.time()) - 25
    drop_at = blip_at + 20
    query = (
        f"vector((10 + ((time() * 7919) % 101) / 300"
        f" + 2 * (time() >= bool {blip_at}) * (time() < bool {blip_at + 1})) * (time() < bool {drop_at}))"
    )
    settings = job_settings(tmp_path, prometheus.url, alertmanager, query, "checkout-requests")

    def job_alerts() -> list[dict[str, Any]]:
        return [a for a in alertmanager.alerts() if a["labels"].get("anomaly_job") == "checkout-requests"]

    with Sidecar(settings):
        alerts = wait_for(lambda: job_alerts()[1:] and job_alerts(), 20, "two anomaly alerts in Alertmanager")
    starts = sorted(
        (dt.datetime.fromisoformat(a["startsAt"]).timestamp(), a["labels"]["anomaly_incident"])
        for a in alerts
    )
    [(blip, _), (outage, _)] = starts
    # (points are evaluated at the job's step from its start: up to a second after the blip; the outage
    # is sure a few points in)
    assert blip_at <= blip < blip_at + 1 and drop_at <= outage < drop_at + 5, (blip_at, drop_at, starts)
    # each alert is labelled with the time its incident opened
    assert all(dt.datetime.fromisoformat(incident).timestamp() == start for start, incident in starts)


def test_steady_series_is_scored_without_alerts(
    prometheus: Prometheus, alertmanager: Alertmanager, tmp_path: Path
) -> None:
    settings = job_settings(tmp_path, prometheus.url, alertmanager, "vector(10 + (time() % 7) / 3)", "steady")
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
    settings = job_settings(tmp_path, f"http://127.0.0.1:{free_port()}", alertmanager, "vector(1)", "blind")
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
        # /health/detailed shows the job failing, with the reason, once it has failed three runs in a row
        # (the AnomalyJobFailing alert's count); not a critical check, so not part of readiness.
        job = wait_for(
            lambda: [
                check
                for check in httpx.get(f"{sidecar.url}/health/detailed").json()["checks"]["anomaly-job:runs"]
                if check["status"] == "fail"
            ],
            30,
            "the job's health check failing",
        )[0]
        assert job["componentId"] == "blind" and job["critical"] is False
        assert job["observedValue"] >= 3 and job["observedUnit"] == "failed runs in a row"
        assert "unreachable" in job["output"], job
        notes = httpx.get(f"{sidecar.url}/health").json()["notes"]
        assert "anomaly-job:runs (blind): fail" in notes, notes  # without [critical]


def test_probes_answer_while_a_job_scores_a_backfilled_week(
    prometheus: Prometheus, alertmanager: Alertmanager, tmp_path: Path
) -> None:
    """Scoring is CPU work (about a second per week of one-minute points here): it must not keep the
    sidecar from answering its liveness probe, or an orchestrator restarts it mid-backfill."""
    now = "vector(time())"
    series = []
    for index in range(8):
        noise = f"(sin({now} * 12.9898 + {index} * 78.233) * 43758.5453)"
        cycle = f"50 + 10 * sin(2 * pi() * ({now} % 86400) / 86400) + 4 * ({noise} - floor({noise}))"
        series.append(f'label_replace({cycle}, "shard", "{index}", "", "")')
    job = {
        "name": "week",
        "query": " or ".join(series),
        "interval_seconds": 3600,
        "step_seconds": 60,
        "backfill_seconds": 7 * 86_400,
    }
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps({"jobs": [job]}))
    settings = SidecarSettings(
        port=free_port(),
        data_dir=tmp_path / "data",
        prometheus_url=prometheus.url,
        alertmanager_url=alertmanager.url,
        anomaly_jobs_file=path,
        check_interval=3600,
    )
    success = 'otel_ops_anomaly_job_last_success_timestamp_seconds{job="week"}'
    with Sidecar(settings) as sidecar, httpx.Client(base_url=sidecar.url, timeout=120) as http:
        probes: list[float] = []  # latency of each probe sent before the job was seen done
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert http.get("/health/live").status_code == 200
            probes.append(time.monotonic() - started)
            metrics = http.get("/metrics").text
            if success in metrics:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the job did not score its backfilled week within 300 s")
    scored = [line for line in metrics.splitlines() if line.startswith('otel_ops_anomaly_score{job="week"')]
    assert len(scored) == 8, scored
    assert len(probes) >= 5, probes  # fetching and scoring took a while: probes came in meanwhile
    assert max(probes) < 2.0, probes
