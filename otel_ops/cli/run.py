"""``otel-ops run -- CMD ...``: run a Python service instrumented by otel-ops, without code changes.

The work is done by :mod:`otel_ops.launch`, which the ``otel-ops`` command also calls directly, without
this Typer application, when only the library is installed (:mod:`otel_ops.entry_point`).
"""

from __future__ import annotations

from typing import Annotated

import typer


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
    """Run COMMAND with otel-ops instrumentation, e.g. otel-ops run -- uvicorn myapp:app."""
    from otel_ops.launch import LaunchError, launch

    try:
        launch(list(ctx.args), service_name=service_name, endpoint=endpoint, protocol=protocol)
    except LaunchError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(exc.exit_code) from None


def register(app: typer.Typer) -> None:
    app.command(
        "run",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(run)
