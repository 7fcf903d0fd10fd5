"""``otel-ops up|down|status``: the native stack as supervised local background processes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from otel_ops.cli.config_dir import ConfigDirOption, use_config_dir
from otel_ops.stack import components
from otel_ops.stack.ports import StackPorts
from otel_ops.stack.processes import StackError, state_dir

_console = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)

# status exit codes: all started components run and are ready / one is not or died / nothing started.
EXIT_OK, EXIT_DEGRADED, EXIT_NOT_RUNNING = 0, 1, 3


def _port(default: int, what: str) -> int:
    return typer.Option(default, min=1, max=65535, help=f"Port of {what}.")


def up(
    host: Annotated[str, typer.Option(help="Address every component listens on.")] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            "--port",
            "--otlp-http-port",
            min=1,
            max=65535,
            help="Port of the Collector's OTLP/HTTP receiver (--otlp-http-port is the same option).",
        ),
    ] = 4318,
    otlp_grpc_port: int = _port(4317, "the Collector's OTLP/gRPC receiver"),
    health_port: int = _port(13133, "the Collector's health check"),
    collector_metrics_port: int = _port(8888, "the Collector's own metrics"),
    prometheus_port: int = _port(9090, "Prometheus"),
    alertmanager_port: int = _port(9093, "Alertmanager"),
    sidecar_port: int = _port(8000, "the ops sidecar"),
    jaeger_port: int = _port(16686, "Jaeger's query API"),
    jaeger_grpc_port: int = _port(16685, "Jaeger's query gRPC API"),
    jaeger_otlp_port: int = _port(4327, "Jaeger's OTLP/gRPC receiver (the Collector sends it traces)"),
    jaeger_health_port: int = _port(13134, "Jaeger's health check"),
    victorialogs_port: int = _port(9428, "VictoriaLogs"),
    alertmanager: Annotated[bool, typer.Option(help="Run Alertmanager.")] = True,
    jaeger: Annotated[bool, typer.Option(help="Run Jaeger, the trace store.")] = True,
    victorialogs: Annotated[bool, typer.Option(help="Run VictoriaLogs, the log store.")] = True,
    retention: Annotated[
        str, typer.Option(help="How long Jaeger and VictoriaLogs keep traces and logs: 36h, 7d, 2w.")
    ] = components.DEFAULT_RETENTION,
    sidecar: Annotated[
        bool, typer.Option(help="Run the ops sidecar when this installation has it (`otel-ops sidecar`).")
    ] = True,
    metrics_flush_interval: Annotated[
        str, typer.Option(help="How often the Collector emits span and service-graph metrics.")
    ] = "3s",
    evaluation_interval: Annotated[
        str | None,
        typer.Option(help="Rule evaluation interval (default: that of prometheus/prometheus.yml)."),
    ] = None,
    timeout: Annotated[float, typer.Option(min=1.0, help="Seconds to wait for each component.")] = 60.0,
    config_dir: ConfigDirOption = None,
) -> None:
    """Start the Collector, Prometheus, Alertmanager, Jaeger, VictoriaLogs and the ops sidecar in the
    background; wait until ready.

    They keep running after this command exits; pid files and logs are in the state directory
    (./.otel-ops or $OTEL_OPS_STATE_DIR). Stop them with `otel-ops down`.
    """
    use_config_dir(config_dir)
    ports = StackPorts(
        host=host,
        otlp_grpc=otlp_grpc_port,
        otlp_http=port,
        health=health_port,
        collector_metrics=collector_metrics_port,
        prometheus=prometheus_port,
        alertmanager=alertmanager_port,
        sidecar=sidecar_port,
        jaeger_query=jaeger_port,
        jaeger_query_grpc=jaeger_grpc_port,
        jaeger_otlp=jaeger_otlp_port,
        jaeger_health=jaeger_health_port,
        victorialogs=victorialogs_port,
    )
    try:
        components.retention_hours(retention)
        components.check_duration(metrics_flush_interval, "--metrics-flush-interval", go=True)
        if evaluation_interval is not None:
            components.check_duration(evaluation_interval, "--evaluation-interval")
    except StackError as exc:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    wanted = ["prometheus", "collector"]
    for name, enabled in (("alertmanager", alertmanager), ("jaeger", jaeger), ("victorialogs", victorialogs)):
        if enabled:
            wanted.append(name)
    if sidecar:
        if components.sidecar_available():
            wanted.append("sidecar")
        else:
            _console.print("ops sidecar: not available in this installation (`otel-ops sidecar`); skipped")
    backends = components.backends(wanted)
    _console.print(f"Collector exporters: {', '.join(backends)}")
    from otel_ops.stack import background

    options = background.UpOptions(
        ports=ports,
        state=state_dir(),
        components=tuple(wanted),
        metrics_flush_interval=metrics_flush_interval,
        evaluation_interval=evaluation_interval,
        ready_timeout=timeout,
        retention=retention,
    )
    try:
        background.up(options, _err)
    except StackError as exc:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        _err.print("interrupted; stopped what this command had started")
        raise typer.Exit(130) from None
    _print_table(options.state)


def down(
    timeout: Annotated[
        float, typer.Option(min=0.0, help="Seconds to wait after SIGTERM before SIGKILL.")
    ] = 10.0,
) -> None:
    """Stop the background stack (SIGTERM, then SIGKILL after --timeout); remove its pid files."""
    from otel_ops.stack import background

    stopped = background.down(state_dir(create=False), _console, timeout)
    if not stopped:
        _console.print("nothing was running")


def status() -> None:
    """Show each component: state, pid, port, readiness and log file.

    Exit code 0 when every started component is running and ready, 1 when one is not ready or has
    died (stale pid file), 3 when nothing was started.
    """
    raise typer.Exit(_print_table(state_dir(create=False)))


def _print_table(state: Path) -> int:
    from otel_ops.stack import background

    rows = background.status(state)
    table = Table(title=f"otel-ops stack ({state})")
    for column in ("component", "state", "pid", "port", "ready", "log"):
        table.add_column(column, no_wrap=column != "log")
    for row in rows:
        colour = {"running": "green" if row.ready else "yellow", "stale": "red"}.get(row.state, "dim")
        table.add_row(
            row.name,
            f"[{colour}]{row.state}[/]",
            str(row.pid or "-"),
            str(row.port or "-"),
            "yes" if row.ready else "no",
            str(row.log),
        )
    _console.print(table)
    recorded = [row for row in rows if row.state != "stopped"]
    if not recorded:
        return EXIT_NOT_RUNNING
    return EXIT_OK if all(row.state == "running" and row.ready for row in recorded) else EXIT_DEGRADED


def register(app: typer.Typer) -> None:
    """Adds ``up``, ``down`` and ``status`` to the main application."""
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)
