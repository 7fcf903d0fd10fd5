"""``otel-ops sidecar``: serve the ops sidecar (health, anomalies, alerts, backups)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from otel_ops.cli.config_dir import ConfigDirOption, use_config_dir


def _print_settings() -> None:
    from rich.table import Table

    from otel_ops.sidecar.settings_reference import GROUPS, rows

    console = Console()
    for title, settings in GROUPS:
        table = Table(title=title, title_justify="left", show_lines=False)
        table.add_column("variable", no_wrap=True)  # names are never cut: they are typed as shown
        table.add_column("default", overflow="fold")
        table.add_column("meaning", overflow="fold", ratio=1)
        for name, default, meaning in rows(settings):
            table.add_row(name, default, meaning)
        console.print(table)


def register(app: typer.Typer) -> None:
    """Adds ``sidecar`` to the main application."""

    @app.command("sidecar")
    def sidecar(
        host: Annotated[
            str | None, typer.Option("--host", help="Listen address (default OTEL_OPS_HOST or 127.0.0.1).")
        ] = None,
        port: Annotated[
            int | None,
            typer.Option("--port", min=1, max=65535, help="Listen port (default OTEL_OPS_PORT or 8000)."),
        ] = None,
        config_dir: ConfigDirOption = None,
        list_settings: Annotated[
            bool,
            typer.Option(
                "--settings", help="List every setting (environment variable, default, meaning) and exit."
            ),
        ] = False,
    ) -> None:
        """Serve the ops sidecar: health checks, alert handling, anomaly jobs, events and /metrics.

        Every setting is an OTEL_OPS_* environment variable (--settings lists them); the flags win over
        the environment. Anomaly jobs run from OTEL_OPS_ANOMALY_JOBS_FILE (the stacks of `otel-ops up` and
        compose set it to prometheus/anomaly-jobs.yml). The configuration backup copies the stack files in
        use (--config-dir).
        """
        if list_settings:
            _print_settings()
            return
        use_config_dir(config_dir)
        import uvicorn

        import otel_ops
        from otel_ops.config.settings import HttpOptions
        from otel_ops.sidecar.app import create_app
        from otel_ops.sidecar.settings import SettingsError, load_settings
        from otel_ops.stack.processes import bind_error

        errors = Console(stderr=True, soft_wrap=True)
        try:
            settings = load_settings(host=host, port=port)
            if settings.anomaly_jobs_file is not None:
                _check_jobs_file(settings.anomaly_jobs_file)
        except SettingsError as exc:
            errors.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(code=2) from None
        refused = bind_error(settings.port, settings.host)
        if refused is not None:
            errors.print(
                f"[bold red]error:[/] cannot listen on {settings.host}:{settings.port}: {refused}. Is "
                "another sidecar running there (`ss -ltnp` shows what listens)? Choose another port with "
                "--port or OTEL_OPS_PORT.",
                highlight=False,
            )
            raise typer.Exit(code=1)
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            errors.print(f"[bold red]error:[/] OTEL_OPS_DATA_DIR: cannot create {settings.data_dir}: {exc}")
            raise typer.Exit(code=2) from None

        app = create_app(settings)
        excluded = ("/health", "/health/live", "/health/ready", "/metrics", "/events")
        otel_ops.configure(
            app=app, service_name="otel-ops-sidecar", http=HttpOptions(excluded_paths=excluded)
        )
        # The standard library's event loop and uvicorn's pure-Python HTTP parser: the sidecar serves a few
        # requests a second, and runs the same with or without uvloop and httptools installed (they would
        # add about 2.5 MB to its memory).
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            loop="asyncio",
            http="h11",
            log_config=None,
            access_log=False,
        )


def _check_jobs_file(path: Path) -> None:
    """A bad anomaly jobs file stops the sidecar before it serves (as a :class:`SettingsError`); the jobs
    and their detectors are loaded only when a file is configured."""
    from otel_ops.sidecar.jobs import JobsFileError, load_jobs
    from otel_ops.sidecar.settings import SettingsError

    try:
        jobs = load_jobs(path)
    except JobsFileError as exc:
        raise SettingsError(str(exc)) from None
    if not jobs:
        Console(stderr=True, soft_wrap=True).print(
            f"[bold yellow]warning:[/] no jobs defined in {path} (OTEL_OPS_ANOMALY_JOBS_FILE): no anomaly "
            "job runs",
            highlight=False,
        )
