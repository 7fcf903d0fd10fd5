"""``otel-ops anomaly``: offline anomaly scoring with the sidecar's detectors, and checking jobs files."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Anomaly detection over time series.", no_args_is_help=True)

PROGRESS_MIN_ROWS = 20_000
OUTPUT_COLUMNS = ("timestamp", "value", "anomaly_score")


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
    """
    from otel_ops.sidecar.anomaly import EnsembleConfig, SeriesFormatError, read_series_csv, score_arrivals

    errors = Console(stderr=True)
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


@app.command("check")
def check(
    jobs_file: Annotated[Path, typer.Argument(help="The anomaly jobs file (YAML or JSON) to check.")],
    prometheus: Annotated[
        str | None,
        typer.Option(
            "--prometheus",
            help="Prometheus to ask (default OTEL_OPS_PROMETHEUS_URL or http://localhost:9090).",
        ),
    ] = None,
    query: Annotated[
        bool, typer.Option("--query/--no-query", help="Ask Prometheus for each job's series.")
    ] = True,
) -> None:
    """Check an anomaly jobs file before the sidecar runs it: the file itself, then each job's query.

    Exits 2 when the file is invalid, 1 when a query fails or returns more series than its job's
    max_series, 0 otherwise.
    """
    from otel_ops import _http as http_clients
    from otel_ops.sidecar.jobs import JobsFileError, load_jobs
    from otel_ops.sidecar.jobs.check import JobCheck, PrometheusUnreachable, check_job
    from otel_ops.sidecar.settings import SettingsError, load_settings

    out, errors = Console(), Console(stderr=True, soft_wrap=True)
    try:
        jobs = load_jobs(jobs_file)
    except JobsFileError as exc:
        errors.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=2) from None
    url = prometheus
    if query and url is None:
        try:
            url = str(load_settings().prometheus_url).rstrip("/")
        except SettingsError as exc:
            errors.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(code=2) from None
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
    problems = sum(1 for result in checks if result.problem)
    if problems:
        errors.print(f"[bold red]error:[/] {problems} of {_jobs(len(checks))} cannot run as configured")
        raise typer.Exit(code=1)
    asked = f", queries answered by {url}" if query else " (queries not run)"
    out.print(f"{_jobs(len(checks))} valid{asked}", highlight=False)


def _jobs(count: int) -> str:
    return f"{count} job" if count == 1 else f"{count} jobs"
