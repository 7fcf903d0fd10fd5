"""The ``otel-ops`` command line: one Typer application, one module per command group."""

from __future__ import annotations

import inspect
import sys
from typing import Annotated

import typer

# httpx loads its own command-line client (click, rich.syntax, pygments: about 2 MB) whenever click and rich
# are installed. No otel-ops command runs it, and the sidecar is a long-running process: keep it unloaded.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from otel_ops.cli import alerts, anomaly, backup, collector, demo, explain, init, run, sidecar, stack, stores  # noqa: E402

app = typer.Typer(
    name="otel-ops",
    help="OpenTelemetry observability pipeline for Python services.",
    no_args_is_help=True,
    add_completion=False,
    # Help paragraphs are reflowed to the terminal's width (rich mode keeps each docstring line's breaks).
    rich_markup_mode="markdown",
)


def _print_version(value: bool) -> None:
    if value:
        from otel_ops.entry_point import version_line

        typer.echo(version_line())
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """OpenTelemetry observability pipeline for Python services."""


run.register(app)
demo.register(app)
stack.register(app)
sidecar.register(app)
explain.register(app)
init.register(app)
app.add_typer(collector.app, name="collector")
app.add_typer(stores.app, name="stores")
app.add_typer(anomaly.app, name="anomaly")
app.add_typer(alerts.app, name="alerts")
app.add_typer(backup.app, name="backup")


def _one_line_summaries(group: typer.Typer) -> None:
    """Command lists show each command's first paragraph on one line: the docstrings' own line breaks are
    for the source, not for the list."""
    for command in group.registered_commands:
        if command.short_help is None and command.callback is not None:
            text = inspect.cleandoc(command.help or command.callback.__doc__ or "")
            command.short_help = " ".join(text.split("\n\n")[0].split())
    for subgroup in group.registered_groups:
        if subgroup.typer_instance is not None:
            _one_line_summaries(subgroup.typer_instance)


_one_line_summaries(app)


def main() -> None:
    app()
