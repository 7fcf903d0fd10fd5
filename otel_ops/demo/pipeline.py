"""``otel-ops demo``'s run: the native stack on this machine, the instrumented demo service against it,
traffic, then what arrived in Prometheus, Jaeger and VictoriaLogs, with one of the run's errors explained.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from otel_ops.demo import report as demo_report
from otel_ops.demo.traffic import TrafficStats, run_traffic
from otel_ops.stack.native import NativeStack, StackPorts, locate_binaries
from otel_ops.stack.processes import ManagedProcess, StackError, check_ports_free, state_dir
from otel_ops.stack.prometheus_api import PrometheusClient, PrometheusQueryError

_console = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)

# Short export intervals so the demo's telemetry reaches Prometheus within seconds.
_DEMO_EXPORT_INTERVAL_MS = "2000"
_DEMO_FLUSH_INTERVAL = "2s"
_ARRIVAL_TIMEOUT_S = 30.0


def service_process(state: Path, host: str, port: int, otlp_endpoint: str, run_id: str) -> ManagedProcess:
    resource = ",".join(
        p for p in (os.environ.get("OTEL_RESOURCE_ATTRIBUTES", ""), f"demo.run.id={run_id}") if p
    )
    return ManagedProcess(
        name="demo service",
        command=[sys.executable, "-m", "otel_ops.demo", "--host", host, "--port", str(port)],
        log=state / "logs" / "demo-service.log",
        ready_url=f"http://{host}:{port}/health",
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_METRIC_EXPORT_INTERVAL": _DEMO_EXPORT_INTERVAL_MS,
            "OTEL_BSP_SCHEDULE_DELAY": "500",
            "OTEL_BLRP_SCHEDULE_DELAY": "500",
            "OTEL_RESOURCE_ATTRIBUTES": resource,
        },
    )


def _drive_traffic(base_url: str, duration: float, concurrency: int) -> TrafficStats:
    columns = (
        TextColumn("[bold]traffic"),
        BarColumn(),
        TextColumn("{task.fields[requests]} requests, {task.fields[errors]} errors"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=_console, transient=False) as progress:
        task = progress.add_task("traffic", total=duration, requests=0, errors=0)

        def tick(elapsed: float, stats: TrafficStats) -> None:
            progress.update(task, completed=min(elapsed, duration), requests=stats.total, errors=stats.errors)

        return run_traffic(base_url, duration, concurrency=concurrency, on_tick=tick)


def _wait_for_telemetry(client: PrometheusClient, run_id: str, requests: int) -> demo_report.DemoReport:
    """Poll Prometheus until every answered request is counted and span metrics arrived, or a timeout."""
    deadline = time.monotonic() + _ARRIVAL_TIMEOUT_S
    with _console.status("waiting for the telemetry to arrive in Prometheus…"):
        while True:
            try:
                report = demo_report.collect(client, run_id)
            except PrometheusQueryError as exc:
                raise StackError(str(exc)) from exc
            complete = not report.missing and report.total("http") >= requests
            if complete or time.monotonic() > deadline:
                return report
            time.sleep(1.0)


def _explain_an_error(report: demo_report.DemoReport, stack: NativeStack) -> None:
    """Explain the run's top error from the stores, as `otel-ops explain --fingerprint` does."""
    from otel_ops.demo.explained import explain_top_error
    from otel_ops.explain import StoreUrls, render

    urls = StoreUrls.local(
        prometheus=stack.prometheus_url,
        alertmanager=stack.ports.url("alertmanager"),
        jaeger=stack.jaeger_url,
        victorialogs=stack.victorialogs_url,
    )
    with _console.status("explaining the most frequent error from the trace and log stores…"):
        explanation = explain_top_error(report, urls)
    if explanation is None:
        _console.print("\nNo error to explain in this run.")
        return
    _console.print(
        f"\n[bold]An error of this run, explained[/] (otel-ops explain --fingerprint {explanation.query})"
    )
    render(explanation, _console)
    if explanation.trace is None or not explanation.logs:
        raise StackError(
            "the error's trace or its log lines did not arrive in Jaeger and VictoriaLogs: "
            f"look at the logs in {stack.state / 'logs'}"
        )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """Ctrl-C, SIGTERM and SIGHUP all stop the stack cleanly (also when started with SIGINT ignored)."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)


def run_demo(ports: StackPorts, service_port: int, duration: float, concurrency: int, keep: bool) -> int:
    """Runs the demo; returns the exit status (0, 1 when telemetry went missing or the stack failed, 130
    when interrupted)."""
    state = state_dir()
    stack = NativeStack(ports=ports, state=state, metrics_flush_interval=_DEMO_FLUSH_INTERVAL)
    run_id = uuid.uuid4().hex[:12]
    _stop_on_signals()
    try:
        check_ports_free(
            {
                **ports.named(("prometheus", "jaeger", "victorialogs", "collector")),
                "demo service": service_port,
            },
            ports.host,
        )
        _console.print("[bold]1/4[/] Collector, Jaeger and VictoriaLogs binaries")
        binaries = locate_binaries(_err)
        for path in binaries.values():
            _console.print(f"    {path}")
        _console.print(
            f"[bold]2/4[/] Starting Prometheus ({stack.prometheus_url}), Jaeger ({stack.jaeger_url}), "
            f"VictoriaLogs ({stack.victorialogs_url}) and the Collector"
        )
        stack.start(binaries)
        service = service_process(state, ports.host, service_port, stack.otlp_http_endpoint, run_id)
        stack.supervisor.start(service)
        base_url = f"http://{ports.host}:{service_port}"
        _console.print(f"[bold]3/4[/] Demo service at {base_url}; sending traffic for {duration:g}s")
        stats = _drive_traffic(base_url, duration, concurrency)
        stack.supervisor.check_alive()
        _console.print(
            "    responses: "
            + ", ".join(f"{code or 'not answered'}: {n}" for code, n in sorted(stats.by_status.items()))
        )
        _console.print(f"[bold]4/4[/] Querying Prometheus, Jaeger and VictoriaLogs (run id {run_id})")
        answered = stats.total - stats.by_status.get(0, 0)
        report = _wait_for_telemetry(PrometheusClient(stack.prometheus_url), run_id, answered)
        demo_report.render(report, _console)
        if report.missing:
            stack.supervisor.check_alive()
            raise StackError(
                "telemetry did not arrive in Prometheus: no series for "
                + ", ".join(demo_report.TITLES[name] for name in report.missing)
                + f". Look at the logs in {state / 'logs'}."
            )
        _explain_an_error(report, stack)
        _console.print(
            f"\nPrometheus: {stack.prometheus_url}/graph  (try "
            f"[cyan]sum by (http_route) (rate({report.metric_names['http']}[1m]))[/])\n"
            f"Logs in VictoriaLogs: {stack.victorialogs_url}/select/vmui/\n"
            f"Traces in Jaeger (query API; its web UI is not part of the build): "
            f"{stack.jaeger_url}/api/v3/traces/<trace id>\n"
            f"Component logs: {state / 'logs'}"
        )
        if keep:
            _console.print("Stack running; press Ctrl-C to stop it.")
            while True:
                stack.supervisor.check_alive()
                time.sleep(1.0)
    except StackError as exc:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 1
    except KeyboardInterrupt:
        _console.print("\nStopping…")
        if not keep:
            return 130
    finally:
        # A second Ctrl-C must not leave processes behind; stopping is bounded by the SIGKILL timeouts.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stack.stop()
    return 0
