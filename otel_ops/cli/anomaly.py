"""``otel-ops anomaly``: offline anomaly scoring with the sidecar's detectors, and checking jobs files."""

from __future__ import annotations

import csv
import itertools
import math
import os
import statistics
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.console import Console, Group
from rich.table import Table

if TYPE_CHECKING:
    from otel_ops.sidecar.anomaly import EnsembleConfig, Incident, TimeSeries
    from otel_ops.sidecar.jobs.config import AnomalyJob

app = typer.Typer(help="Anomaly detection over time series.", no_args_is_help=True)

PROGRESS_MIN_ROWS = 20_000
MAX_INCIDENT_ROWS = 20  # incidents listed after scoring to a file (the CSV has every alerting row)
OUTPUT_COLUMNS = ("timestamp", "value", "anomaly_score")


def _usual_step(series: TimeSeries) -> float | None:
    """The series' step: the median of the positive steps between rows (None without any)."""
    steps = [b - a for a, b in itertools.pairwise(series.epoch_seconds) if b > a]
    return statistics.median(steps) if steps else None


def _history_warning(file: Path, series: TimeSeries, config: EnsembleConfig) -> str | None:
    """A warning when ``series`` is too short for the detectors' scores to mean much, else None."""
    from otel_ops.sidecar.anomaly import scale_to_step
    from otel_ops.sidecar.anomaly.reasons import human_duration
    from otel_ops.sidecar.anomaly.warmup import full_strength_points

    usual_step = _usual_step(series)
    # Without a step, the detectors assume the reference step (as EnsembleDetector does).
    step = usual_step or config.reference_step_seconds
    needed = full_strength_points(scale_to_step(config, step), step)
    learnt = sum(1 for value in series.values if math.isfinite(value))  # missing values teach nothing
    if learnt >= needed:
        return None
    points = f"{learnt} point{'' if learnt == 1 else 's'}" + (
        f", {human_duration(step)} apart" if usual_step else ""
    )
    return (
        f"{file}: only {human_duration(learnt * step)} of history ({points});"
        f" the detectors need about {human_duration(needed * step)} ({needed} points) before their scores"
        " reach full strength: until then anomalies score low or 0, so few alerts here mean little"
    )


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same path once resolved, or the same inode (a link)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _write_scores(handle: TextIO, timestamps: list[str], values: list[float], scores: list[float]) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    for timestamp, value, score in zip(timestamps, values, scores, strict=True):
        writer.writerow((timestamp, repr(value) if math.isfinite(value) else "", f"{score:.6f}"))


@app.command("score")
def score(
    file: Annotated[Path, typer.Argument(help="CSV with a 'timestamp,value' header.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write the scored CSV (default: stdout).")
    ] = None,
) -> None:
    """Score every point of FILE with the streaming ensemble detector (each point sees only its past).

    Writes 'timestamp,value,anomaly_score' with the score in 0..1, one row per input row, in file order.
    Rows are scored in the order they appear: timestamps out of order or repeated (a clock stepped back),
    gaps and missing values (empty, nan) are handled and counted in a warning; a missing value scores 0.

    With -o, it then lists the incidents a live job would alert (one alert each; the first 20), each with
    its strongest evidence (a spike, a value unlike the past week, a frozen value, ...).

    The detectors need history before their scores mean much (about 2.5 days of points at the default
    settings): a warning says how much when FILE is shorter.
    """
    from otel_ops.sidecar.anomaly import EnsembleConfig, SeriesFormatError, read_series_csv, score_arrivals

    errors = Console(stderr=True)
    if output is not None and _same_file(file, output):
        same = "" if output == file else f" ({file})"
        errors.print(
            f"[bold red]error:[/] -o {output} is the input file{same}: writing the scores there would "
            "replace the series being read. Write them to another file, or leave out -o for stdout.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=1)
    try:
        series = read_series_csv(file)
    except SeriesFormatError as exc:
        errors.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None

    config = EnsembleConfig()
    locations = [f"line {n}" for n in series.line_numbers]
    if len(series) >= PROGRESS_MIN_ROWS:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=errors, transient=True) as progress:
            task = progress.add_task("scoring", total=len(series))
            step = max(1, len(series) // 200)
            counter = 0

            def advance() -> None:
                nonlocal counter
                counter += 1
                if counter % step == 0:
                    progress.update(task, completed=counter)

            scored = score_arrivals(
                series.epoch_seconds, series.values, config, on_point=advance, locations=locations
            )
    else:
        scored = score_arrivals(series.epoch_seconds, series.values, config, locations=locations)
    scores = scored.scores
    if scored.oddities:
        errors.print(
            f"[bold yellow]warning:[/] {file}: scored all {len(scores)} rows in file order; odd rows: "
            f"{scored.oddities.summary()}",
            highlight=False,
            soft_wrap=True,
        )
    short = _history_warning(file, series, config)
    if short is not None:
        errors.print(f"[bold yellow]warning:[/] {short}", highlight=False, soft_wrap=True)

    if output is None:
        _write_scores(sys.stdout, series.timestamp_text, series.values, scores)
        return
    try:
        with output.open("w", newline="", encoding="utf-8") as handle:
            _write_scores(handle, series.timestamp_text, series.values, scores)
    except OSError as exc:
        errors.print(f"[bold red]error:[/] cannot write {output}: {exc.strerror}", highlight=False)
        raise typer.Exit(code=1) from None
    alerts = sum(1 for s in scores if s >= config.alert_score)
    errors.print(
        f"wrote {len(scores)} rows to {output} ({alerts} at or above alert score {config.alert_score})"
    )
    if scored.incidents:
        Console().print(_incidents_table(scored.incidents, series))


def _incidents_table(incidents: list[Incident], series: TimeSeries) -> Group:
    """The incidents the alerts make, as a live job would send them (at most ``MAX_INCIDENT_ROWS``), and
    what each kind of evidence listed means."""
    from otel_ops.sidecar.anomaly import reasons

    shown = incidents[:MAX_INCIDENT_ROWS]
    count = f"{len(incidents)} incident{'' if len(incidents) == 1 else 's'}"
    table = Table(
        "opened",
        "line",
        "rows",
        "peak score",
        "evidence at the peak",
        title=f"{count} (a live job sends one alert for each)",
        caption=f"the first {len(shown)} of {count}" if len(shown) < len(incidents) else None,
    )
    for column in table.columns[:4]:
        column.no_wrap = True
    for incident in shown:
        opened, peak = incident.opened_index, incident.peak_index
        evidence = reasons.label(incident.evidence) if incident.evidence else ""
        table.add_row(
            series.timestamp_text[opened],
            str(series.line_numbers[opened]),
            str(incident.alerting_points),
            f"{incident.peak_score:.3f} (line {series.line_numbers[peak]})",
            evidence,
        )
    kinds = dict.fromkeys(i.evidence for i in shown if i.evidence)
    legend = [f"{reasons.label(kind)}: {reasons.meaning(kind)}" for kind in kinds]
    return Group(table, *legend)


@app.command("check")
def check(
    jobs_file: Annotated[Path, typer.Argument(help="The anomaly jobs file (YAML or JSON) to check.")],
    prometheus: Annotated[
        str | None,
        typer.Option(
            "--prometheus",
            "--prometheus-url",
            help="Prometheus to ask (default OTEL_OPS_PROMETHEUS_URL, else the local stack's, else :9090).",
        ),
    ] = None,
    query: Annotated[
        bool, typer.Option("--query/--no-query", help="Ask Prometheus for each job's series.")
    ] = True,
) -> None:
    """Check an anomaly jobs file before the sidecar runs it: the file itself, then each job's query.

    The file is a YAML (or JSON) mapping with a 'jobs:' list, such as
    'jobs: [{name: requests, query: "sum(rate(http_requests_total[5m]))", interval_seconds: 60}]'
    (every field is described in otel_ops/sidecar/jobs/config.py).

    Exits 2 when the file is invalid, 1 when a query fails or returns more series than its job's
    max_series, 0 otherwise (also for a file without jobs, with a warning: the sidecar runs no job then).
    """
    from otel_ops import _http as http_clients
    from otel_ops.cli._urls import component_url
    from otel_ops.sidecar.jobs import JobsFileError, load_jobs
    from otel_ops.sidecar.jobs.check import JobCheck, PrometheusUnreachable, check_job

    out, errors = Console(), Console(stderr=True, soft_wrap=True)
    try:
        jobs = load_jobs(jobs_file)
    except JobsFileError as exc:
        errors.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=2) from None
    if not jobs:
        errors.print(
            f"[bold yellow]warning:[/] no jobs defined in {jobs_file}: the sidecar would run no anomaly job",
            highlight=False,
        )
        return
    url = component_url("prometheus", prometheus, "--prometheus") if query else None
    checks = [JobCheck(job) for job in jobs]
    if query and url is not None:
        try:
            with http_clients.client() as http:
                checks = [check_job(job, url, http) for job in jobs]
        except PrometheusUnreachable as exc:
            errors.print(
                f"[bold red]error:[/] {jobs_file}: {_jobs(len(jobs))} valid, but their queries could not be "
                f"checked: {exc}. Pass --prometheus URL (or OTEL_OPS_PROMETHEUS_URL), or --no-query to "
                "check the file alone.",
                highlight=False,
            )
            raise typer.Exit(code=1) from None

    table = Table("job", "every", "step", "backfill", "series", "status", title=f"{jobs_file}")
    for result in checks:
        job = result.job
        series = "-" if result.series is None else f"{result.series} (max {job.max_series})"
        status = (
            f"[red]{result.problem}[/]"
            if result.problem
            else f"[yellow]{result.note}[/]"
            if result.note
            else "[green]ok[/]"
        )
        backfill = f"{job.backfill_seconds / job.step:.0f} points" if job.backfill_seconds else "-"
        table.add_row(job.name, f"{job.interval_seconds:g} s", f"{job.step:g} s", backfill, series, status)
    out.print(table)
    for job in jobs:
        short = _backfill_warning(job)
        if short is not None:
            errors.print(f"[bold yellow]warning:[/] {short}", highlight=False, soft_wrap=True)
    problems = sum(1 for result in checks if result.problem)
    if problems:
        errors.print(f"[bold red]error:[/] {problems} of {_jobs(len(checks))} cannot run as configured")
        raise typer.Exit(code=1)
    asked = f", queries answered by {url}" if query else " (queries not run)"
    out.print(f"{_jobs(len(checks))} valid{asked}", highlight=False)


def _backfill_warning(job: AnomalyJob) -> str | None:
    """A warning when ``job``'s backfill is shorter than what its detectors need to reach full strength."""
    from otel_ops.sidecar.anomaly import scale_to_step
    from otel_ops.sidecar.anomaly.reasons import human_duration
    from otel_ops.sidecar.anomaly.warmup import full_strength_points

    needed = full_strength_points(scale_to_step(job.detector, job.step), job.step) * job.step
    if job.backfill_seconds >= needed:
        return None
    return (
        f"job {job.name}: backfill "
        f"{human_duration(job.backfill_seconds) if job.backfill_seconds else 'none'}; "
        f"its detectors need about {human_duration(needed)} of history at a {job.step:g} s step before their "
        f"scores reach full strength, so its alerts mean little for the first "
        f"{human_duration(needed - job.backfill_seconds)} it runs (raise backfill_seconds to {needed:.0f})"
    )


def _jobs(count: int) -> str:
    return f"{count} job" if count == 1 else f"{count} jobs"
