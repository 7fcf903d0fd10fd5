"""Anomaly job definitions, read from a YAML or JSON file::

jobs:
  - name: api-error-ratio
    query: sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[5m]))
    interval_seconds: 60        # how often Prometheus is asked
    step_seconds: 60            # spacing of the points fed to the detector (default: interval)
    backfill_seconds: 259200    # history scored at start-up: full strength takes ~2.5 days (default 0)
    max_series: 50              # series scored at most (default 50); the rest are counted and warned about
    severity: ticket
    labels: {service_name: assistant-api}
    annotations: {runbook_url: https://example.org/runbooks/errors}
    detector: {}                # EnsembleConfig fields (otel_ops.sidecar.anomaly)

Detector settings that span time (windows, warm-ups, quiet periods) have defaults stated in 5-minute
points (288 points = a day, 2016 = a week); a job gets them converted to its own ``step_seconds``, so a
1-minute job keeps a day of 1-minute points.  A setting given explicitly under ``detector`` is used as
given, in points of ``step_seconds``.  Points arriving oddly (gaps, non-finite values) are scored as they
come and counted in a warning (``otel_ops.sidecar.anomaly.arrival``).
A job scores at most ``max_series`` series; a series that returns no point for a day is forgotten (and
learns afresh if it comes back), so series that come and go (pods) do not pile up.

An alerting point is sent to Alertmanager as alert ``OtelOpsAnomaly`` with the series' labels, the job's
``labels``, ``anomaly_job``, ``severity`` and ``anomaly_incident`` (when the detector's incident opened):
the points of one incident refresh one alert, which resolves ``resolve_after_seconds`` after the last of
them; a new incident is a new alert, notified again.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from otel_ops.sidecar.anomaly import EnsembleConfig
from otel_ops.sidecar.anomaly.series_csv import UnreadableFileError, read_text_file

DEFAULT_MAX_SERIES = 50
DEFAULT_RESOLVE_INTERVALS = 10  # an anomaly alert resolves this many intervals after its last point
FORMAT_HELP = "see 'otel-ops anomaly check --help'"


class JobsFileError(ValueError):
    pass


class AnomalyJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    query: str = Field(min_length=1)
    interval_seconds: float = Field(60.0, ge=1.0)
    step_seconds: float | None = Field(None, ge=0.1)
    backfill_seconds: float = Field(0.0, ge=0.0)
    max_series: int = Field(
        DEFAULT_MAX_SERIES,
        ge=1,
        description="Series the job scores at most: each keeps up to about 1 MB of history, so a query that "
        "lost its sum by (...) cannot exhaust memory. Series beyond it are counted "
        "(otel_ops_anomaly_job_series_refused) and named in a warning.",
    )
    severity: str = "ticket"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    resolve_after_seconds: float | None = Field(
        None, gt=0, description=f"Default: {DEFAULT_RESOLVE_INTERVALS} intervals."
    )
    exemplars: bool = Field(
        True, description="Link an exemplar's trace_id in the alert when Prometheus has one."
    )
    detector: EnsembleConfig = EnsembleConfig()

    @model_validator(mode="after")
    def _backfill_fits(self) -> AnomalyJob:
        if self.backfill_seconds / self.step > 11_000:
            raise ValueError("backfill_seconds / step_seconds exceeds Prometheus' 11000 points per query")
        return self

    @property
    def step(self) -> float:
        return self.step_seconds or self.interval_seconds

    @property
    def resolve_after(self) -> float:
        return self.resolve_after_seconds or DEFAULT_RESOLVE_INTERVALS * self.interval_seconds


class JobsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jobs: list[AnomalyJob]

    @model_validator(mode="after")
    def _unique(self) -> JobsFile:
        names = [job.name for job in self.jobs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate job names: {', '.join(duplicates)}")
        return self


def load_jobs(path: Path) -> list[AnomalyJob]:
    """Jobs from ``path``; ``JobsFileError`` names the file and the offending field.

    An empty list of jobs (``jobs: []``) is valid: the sidecar then runs no anomaly job."""
    is_json = path.suffix == ".json"
    expected = "a JSON object with a 'jobs' list" if is_json else "a YAML mapping with a 'jobs:' list"
    try:
        text = read_text_file(path)
    except UnreadableFileError as exc:
        hint = f"; expected {expected} ({FORMAT_HELP})" if exc.undecodable else ""
        raise JobsFileError(f"{path}: {exc.problem}{hint}") from None
    try:
        data = json.loads(text) if is_json else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise JobsFileError(f"{path}: not valid {'JSON' if is_json else 'YAML'}: {exc}") from None
    if not isinstance(data, dict):
        raise JobsFileError(f"{path}: expected {expected}, found {_describe(data)} ({FORMAT_HELP})")
    try:
        jobs = JobsFile.model_validate(data).jobs
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise JobsFileError(f"{path}: invalid anomaly jobs:\n  " + "\n  ".join(problems)) from None
    # Jobs with equal detector settings share one (frozen) settings object: a hundred jobs, one copy.
    shared: dict[EnsembleConfig, EnsembleConfig] = {}
    return [
        job.model_copy(update={"detector": shared.setdefault(job.detector, job.detector)}) for job in jobs
    ]


def _describe(data: object) -> str:
    """What a jobs file holds instead of a mapping, in a few words."""
    if data is None:
        return "an empty file"
    if isinstance(data, list):
        return "a list"
    if isinstance(data, str):
        text = " ".join(data.split())
        return f"plain text ({text[:40]!r}{'...' if len(text) > 40 else ''})"
    return f"the single value {data!r}"
