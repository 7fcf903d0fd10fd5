"""``otel-ops anomaly``: offline anomaly scoring with the sidecar's detectors."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

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
