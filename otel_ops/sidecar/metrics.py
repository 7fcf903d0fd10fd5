"""The sidecar's Prometheus metrics, in a registry of their own (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge


class SidecarMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.health_check_status = Gauge(
            "otel_ops_health_check_status",
            "Health check status: 1 pass, 0.5 warn, 0 fail.",
            ["check", "component_id"],
            registry=self.registry,
        )
        self.health_status = Gauge(
            "otel_ops_health_status",
            "Overall sidecar health: 1 pass, 0.5 warn, 0 fail.",
            registry=self.registry,
        )
        self.health_round_timestamp = Gauge(
            "otel_ops_health_round_timestamp_seconds",
            "Unix time the last background health round finished (stops moving when the rounds stall).",
            registry=self.registry,
        )
        self.anomaly_score = Gauge(
            "otel_ops_anomaly_score",
            "Latest anomaly score (0..1) of a series watched by an anomaly job.",
            ["job", "series"],
            registry=self.registry,
        )
        self.anomaly_job_errors = Gauge(
            "otel_ops_anomaly_job_consecutive_failures",
            "Consecutive failed runs of an anomaly job (0 when the last run worked).",
            ["job"],
            registry=self.registry,
        )
        self.anomaly_job_last_success = Gauge(
            "otel_ops_anomaly_job_last_success_timestamp_seconds",
            "Unix time an anomaly job's last successful run finished.",
            ["job"],
            registry=self.registry,
        )
        self.anomaly_job_interval = Gauge(
            "otel_ops_anomaly_job_interval_seconds",
            "How often an anomaly job runs when it works.",
            ["job"],
            registry=self.registry,
        )
        self.anomaly_job_series = Gauge(
            "otel_ops_anomaly_job_series",
            "Series an anomaly job scores (at most its max_series).",
            ["job"],
            registry=self.registry,
        )
        self.anomaly_job_series_refused = Gauge(
            "otel_ops_anomaly_job_series_refused",
            "Series an anomaly job's last query returned beyond its max_series, not scored.",
            ["job"],
            registry=self.registry,
        )
