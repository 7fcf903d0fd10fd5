"""Anomaly jobs: PromQL queries scored on an interval by the streaming detectors, alerting Alertmanager."""

from otel_ops.sidecar.jobs.config import AnomalyJob, JobsFileError, load_jobs
from otel_ops.sidecar.jobs.runner import AnomalyJobRunner

__all__ = ["AnomalyJob", "AnomalyJobRunner", "JobsFileError", "load_jobs"]
