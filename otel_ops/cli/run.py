"""``otel-ops run -- CMD ...``: run a Python service instrumented by otel-ops, without code changes.

Like ``opentelemetry-instrument``: the command runs with otel-ops loaded at interpreter start-up in every
Python process it starts (``uvicorn --workers`` spawns included); FastAPI apps are instrumented as they are
created. Options here only set the standard environment variables, so the same settings work in both modes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer

_AUTO_DIR = Path(__file__).resolve().parent.parent / "instrumentation" / "_auto"


def run(
    ctx: typer.Context,
    service_name: Annotated[
        str | None, typer.Option("--service-name", help="service.name (sets OTEL_SERVICE_NAME).")
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint", help="OTLP endpoint (sets OTEL_EXPORTER_OTLP_ENDPOINT). Default: local collector."
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option("--protocol", help="http/protobuf or grpc (sets OTEL_EXPORTER_OTLP_PROTOCOL)."),
    ] = None,
) -> None:
    """Run COMMAND with otel-ops instrumentation, e.g. ``otel-ops run -- uvicorn myapp:app``."""
    command = list(ctx.args)
    if not command:
        typer.echo(
            "otel-ops run: give the command to run after '--', e.g. otel-ops run -- uvicorn app:app", err=True
        )
        raise typer.Exit(2)
    if protocol is not None and protocol not in ("http/protobuf", "grpc"):
        typer.echo(f"otel-ops run: --protocol must be http/protobuf or grpc, not {protocol!r}", err=True)
        raise typer.Exit(2)
    executable = shutil.which(command[0])
    if executable is None:
        typer.echo(
            f"otel-ops run: command not found: {command[0]!r} (is it installed and on PATH?)", err=True
        )
        raise typer.Exit(127)
    env = dict(os.environ)
    env["OTEL_OPS_AUTO"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_AUTO_DIR), env.get("PYTHONPATH", "")) if p)
    for name, value in (
        ("OTEL_SERVICE_NAME", service_name),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
    ):
        if value is not None:
            env[name] = value
    os.execvpe(executable, command, env)


def register(app: typer.Typer) -> None:
    app.command(
        "run",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(run)
