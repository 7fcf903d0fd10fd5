"""``otel-ops demo``: the whole pipeline on this machine in one command; ``otel-ops demo-service``.

``demo`` starts the Collector and Prometheus as local processes, runs the instrumented demo service against
them, sends it traffic, then shows from Prometheus what arrived: HTTP and span metrics, exemplars with trace
ids, GenAI tokens and cost, and error fingerprints.
"""

from __future__ import annotations

from typing import Annotated

import typer

from otel_ops.cli.config_dir import ConfigDirOption, use_config_dir


def _port(default: int, what: str) -> int:
    return typer.Option(default, min=1, max=65535, help=f"Port of {what}.")


def demo(
    duration: Annotated[float, typer.Option(min=1.0, help="Seconds of traffic to send.")] = 25.0,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the stack running until Ctrl-C.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Concurrent clients.")] = 4,
    otlp_grpc_port: int = _port(4317, "the Collector's OTLP/gRPC receiver"),
    otlp_http_port: int = _port(4318, "the Collector's OTLP/HTTP receiver"),
    health_port: int = _port(13133, "the Collector's health check"),
    collector_metrics_port: int = _port(8888, "the Collector's own metrics"),
    prometheus_port: int = _port(9090, "Prometheus"),
    jaeger_port: int = _port(16686, "Jaeger's query API"),
    jaeger_grpc_port: int = _port(16685, "Jaeger's query gRPC API"),
    jaeger_otlp_port: int = _port(4327, "Jaeger's OTLP/gRPC receiver"),
    jaeger_health_port: int = _port(13134, "Jaeger's health check"),
    victorialogs_port: int = _port(9428, "VictoriaLogs"),
    service_port: int = _port(8008, "the demo service"),
    config_dir: ConfigDirOption = None,
) -> None:
    """Run the Collector, Prometheus, Jaeger, VictoriaLogs and an instrumented demo service locally; send
    traffic; report what arrived where."""
    use_config_dir(config_dir)
    from otel_ops.demo.pipeline import run_demo
    from otel_ops.stack.ports import StackPorts

    ports = StackPorts(
        otlp_grpc=otlp_grpc_port,
        otlp_http=otlp_http_port,
        health=health_port,
        collector_metrics=collector_metrics_port,
        prometheus=prometheus_port,
        jaeger_query=jaeger_port,
        jaeger_query_grpc=jaeger_grpc_port,
        jaeger_otlp=jaeger_otlp_port,
        jaeger_health=jaeger_health_port,
        victorialogs=victorialogs_port,
    )
    status = run_demo(ports, service_port, duration, concurrency, keep)
    if status:
        raise typer.Exit(status)


def demo_service(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: int = _port(8008, "the demo service"),
) -> None:
    """Serve the instrumented demo AI-assistant service (exports to OTEL_EXPORTER_OTLP_ENDPOINT)."""
    from otel_ops.demo.service import serve

    serve(host, port)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("demo-service")(demo_service)


def main() -> None:
    """``python -m otel_ops.cli.demo demo|demo-service``: these commands without the rest of the CLI."""
    app = typer.Typer(name="otel-ops", add_completion=False, no_args_is_help=True)
    register(app)
    app()


if __name__ == "__main__":
    main()
