"""``otel-ops collector``: build, locate and validate the OpenTelemetry Collector distribution."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from otel_ops.cli.config_dir import ConfigDirOption, use_config_dir

app = typer.Typer(help="Build, locate and validate the OpenTelemetry Collector.", no_args_is_help=True)

_err = Console(stderr=True, soft_wrap=True)

BackendOption = typer.Option(
    None,
    "--backend",
    "-b",
    help="Backend fragment to include (prometheus, loki, tempo, jaeger, victorialogs); repeat it. "
    "Default: all of them.",
)


ConfigOption = typer.Option(
    None,
    "--config",
    "-c",
    help="Config file to merge, in order; repeat it. Default: base.yaml and every backend fragment.",
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    _err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=code)


@app.command()
def build(
    force: bool = typer.Option(False, "--force", help="Rebuild even when a cached binary exists."),
    config_dir: ConfigDirOption = None,
) -> None:
    """Build the otelcol-otel-ops binary from collector/manifest.yaml (cached outside the repository)."""
    use_config_dir(config_dir)
    from otel_ops.stack import collector_build

    try:
        cached = None if force else collector_build.binary_path()
        binary = cached or collector_build.ensure_collector(force=force, console=_err)
    except collector_build.UnknownName as exc:
        raise _fail(str(exc), code=2) from None
    except collector_build.CollectorBuildError as exc:
        raise _fail(str(exc)) from None
    if cached:
        _err.print(f"Up to date: {binary} (use --force to rebuild)")
    typer.echo(binary)


@app.command()
def path(config_dir: ConfigDirOption = None) -> None:
    """Print the path of the built binary (fails when it is not built yet)."""
    use_config_dir(config_dir)
    from otel_ops.stack import collector_build

    try:
        binary = collector_build.binary_path()
    except collector_build.UnknownName as exc:
        raise _fail(str(exc), code=2) from None
    except collector_build.CollectorBuildError as exc:
        raise _fail(str(exc)) from None
    if binary is None:
        raise _fail("the Collector is not built for the current manifest yet: run `otel-ops collector build`")
    typer.echo(binary)


@app.command()
def config(backends: list[str] | None = BackendOption, config_dir: ConfigDirOption = None) -> None:
    """Print the --config arguments for base.yaml plus the chosen backend fragments, in load order."""
    use_config_dir(config_dir)
    from otel_ops.stack import collector_build

    try:
        configs = collector_build.fragments(backends or None)
    except collector_build.UnknownName as exc:
        raise _fail(str(exc), code=2) from None
    except collector_build.CollectorBuildError as exc:
        raise _fail(str(exc)) from None
    typer.echo(" ".join(collector_build.config_args(configs)))


@app.command()
def validate(
    configs: list[Path] | None = ConfigOption,
    backends: list[str] | None = BackendOption,
    config_dir: ConfigDirOption = None,
) -> None:
    """Dry-run a configuration with the built Collector (builds it first when needed)."""
    use_config_dir(config_dir)
    from otel_ops.stack import collector_build

    try:
        files = list(configs) if configs else collector_build.fragments(backends or None)
        result = collector_build.validate(files, binary=collector_build.ensure_collector(console=_err))
    except collector_build.UnknownName as exc:
        raise _fail(str(exc), code=2) from None
    except collector_build.CollectorBuildError as exc:
        raise _fail(str(exc)) from None
    names = " + ".join(str(path) for path in result.configs)
    if not result.ok:
        raise _fail(f"invalid configuration ({names}):\n{result.output}")
    if result.output:
        _err.print(result.output, highlight=False, markup=False)
    typer.echo(f"valid: {names}")


StorageDirOption = typer.Option(
    ...,
    "--storage-dir",
    help="The Collector's storage directory (OTEL_OPS_COLLECTOR_STORAGE_DIR).",
    exists=True,
    file_okay=False,
)


@app.command("repair-wal")
def repair_wal(storage_dir: Path = StorageDirOption) -> None:
    """Cut a torn last entry off the remote-write WAL so a Collector killed mid-write starts again."""
    from otel_ops.stack.collector_wal import repair_remote_write_wal

    repaired = repair_remote_write_wal(storage_dir)
    if not repaired:
        typer.echo(f"The remote-write WAL under {storage_dir} is whole; nothing to repair.")
        return
    for segment, removed in repaired:
        typer.echo(f"Repaired {segment}: removed {removed} bytes of a torn last entry.")
