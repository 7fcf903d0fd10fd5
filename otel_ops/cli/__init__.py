"""The ``otel-ops`` command line: one Typer application, one module per command group."""

from __future__ import annotations

import typer

from otel_ops.cli import anomaly, collector, demo, run

app = typer.Typer(
    name="otel-ops",
    help="OpenTelemetry observability pipeline for Python services.",
    no_args_is_help=True,
    add_completion=False,
)
run.register(app)
demo.register(app)
app.add_typer(collector.app, name="collector")
app.add_typer(anomaly.app, name="anomaly")


def main() -> None:
    app()
