"""``otel-ops stores``: build and locate the native stack's trace and log stores (Jaeger, VictoriaLogs)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from otel_ops.stack import store_build

app = typer.Typer(
    help="Build and locate the native stack's trace store (Jaeger) and log store (VictoriaLogs).",
    no_args_is_help=True,
)

_err = Console(stderr=True, soft_wrap=True)

NamesArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help=f"Stores to build: {', '.join(store_build.PROGRAMS)} (default: both).", show_default=False
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=code)


@app.command()
def build(
    names: NamesArgument = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when a cached binary exists.")] = False,
) -> None:
    """Build the stores from their Go modules at their pinned versions (cached outside the repository)."""
    try:
        for name in names or list(store_build.PROGRAMS):
            spec = store_build.program(name)
            cached = None if force else store_build.binary_path(name)
            binary = cached or store_build.ensure_store(name, force=force, console=_err)
            if cached:
                _err.print(f"{spec.title} {spec.version} up to date (use --force to rebuild)")
            typer.echo(binary)
    except store_build.UnknownName as exc:
        raise _fail(str(exc), code=2) from None
    except store_build.BuildError as exc:
        raise _fail(str(exc)) from None


@app.command()
def path(name: Annotated[str, typer.Argument(help=f"{' or '.join(store_build.PROGRAMS)}")]) -> None:
    """Print the path of a built store (fails when it is not built yet)."""
    try:
        binary = store_build.binary_path(name)
    except store_build.UnknownName as exc:
        raise _fail(str(exc), code=2) from None
    except store_build.BuildError as exc:
        raise _fail(str(exc)) from None
    if binary is None:
        raise _fail(f"{name} is not built yet: run `otel-ops stores build {name}`")
    typer.echo(binary)
