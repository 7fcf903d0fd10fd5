"""``otel-ops explain``: from an alert, a trace or an error fingerprint to its traces, logs and errors.

Exit codes: 0 everything was found and every store answered; 1 not found, a store unreachable, or the
explanation incomplete (printed anyway, with what is missing); 2 bad arguments.
"""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.console import Console

from otel_ops.explain.errors import EXIT_BAD_ARGUMENTS, EXIT_OK, EXIT_PROBLEM
from otel_ops.explain.model import Window

_HELP_URL = "URL of {store} (default {env}, the stack of `otel-ops up`, or {default})."


def _url_option(store: str, env: str, default: str) -> typer.models.OptionInfo:
    return typer.Option(help=_HELP_URL.format(store=store, env=env, default=default), show_default=False)


def explain(
    alert: Annotated[
        str | None,
        typer.Argument(
            help="Alert name or Alertmanager fingerprint (see `otel-ops alerts list`).", show_default=False
        ),
    ] = None,
    trace: Annotated[str | None, typer.Option("--trace", help="Explain this trace id instead.")] = None,
    fingerprint: Annotated[
        str | None, typer.Option("--fingerprint", help="Explain this error fingerprint instead.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (spans and logs included).")
    ] = False,
    window: Annotated[
        str | None,
        typer.Option(
            help="How far back to look, ending now (or when the alert ended): 15m, 2h, 1d. Default: from "
            "15 min before the alert started; 1h for a fingerprint; 7d to find a trace's logs.",
            show_default=False,
        ),
    ] = None,
    exemplars: Annotated[
        int, typer.Option(min=1, max=50, help="Failing and slowest exemplar traces listed.")
    ] = 5,
    log_limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most log records shown.")] = 200,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=120, help="Seconds each store request may take.")
    ] = 5.0,
    prometheus_url: Annotated[
        str | None, _url_option("Prometheus", "OTEL_OPS_PROMETHEUS_URL", "http://127.0.0.1:9090")
    ] = None,
    alertmanager_url: Annotated[
        str | None, _url_option("Alertmanager", "OTEL_OPS_ALERTMANAGER_URL", "http://127.0.0.1:9093")
    ] = None,
    jaeger_url: Annotated[
        str | None, _url_option("Jaeger's query API", "OTEL_OPS_JAEGER_URL", "http://127.0.0.1:16686")
    ] = None,
    victorialogs_url: Annotated[
        str | None, _url_option("VictoriaLogs", "OTEL_OPS_VICTORIALOGS_URL", "http://127.0.0.1:9428")
    ] = None,
    tempo_url: Annotated[
        str | None, typer.Option(help="Read traces from Tempo here (default OTEL_OPS_TEMPO_URL).")
    ] = None,
    loki_url: Annotated[
        str | None, typer.Option(help="Read logs from Loki here (default OTEL_OPS_LOKI_URL).")
    ] = None,
    grafana_url: Annotated[
        str | None, typer.Option(help="Add Grafana Explore links (default OTEL_OPS_GRAFANA_URL).")
    ] = None,
) -> None:
    """Explain an alert, a trace (--trace) or an error group (--fingerprint) from the stores.

    For an alert: its labels, the exemplar traces of the alerted series (failing and slowest), the first
    of them with its span tree and log lines, the error fingerprints counted in its window, and links to
    open the same things in VictoriaLogs, Prometheus, Jaeger's API (and Grafana, given its URL).
    """
    from otel_ops.explain import arguments, explainer, render, settings
    from otel_ops.explain.errors import ExplainError, InvalidArgument

    out = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)

    def fail(exc: ExplainError) -> typer.Exit:
        if as_json:
            payload = {"error": {"message": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}}
            typer.echo(json.dumps(payload, indent=2))
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err.print(f"  {exc.hint}", highlight=False)
        return typer.Exit(exc.exit_code)

    try:
        chosen = [
            name
            for name, value in (("ALERT", alert), ("--trace", trace), ("--fingerprint", fingerprint))
            if value
        ]
        if len(chosen) != 1:
            raise InvalidArgument(
                "give exactly one of ALERT, --trace or --fingerprint"
                + (f" (got {', '.join(chosen)})" if chosen else ""),
                "e.g. `otel-ops explain SLOErrorBudgetBurnFast`, "
                "`otel-ops explain --trace 4bf92f3577b34da6a3ce929d0e0e4736` "
                "or `otel-ops explain --fingerprint 86442dfb217b4f2a`.",
            )
        window_seconds = arguments.duration_seconds(window, "--window") if window else None
        urls = settings.resolve(
            {
                "prometheus": prometheus_url,
                "alertmanager": alertmanager_url,
                "jaeger": jaeger_url,
                "victorialogs": victorialogs_url,
                "tempo": tempo_url,
                "loki": loki_url,
                "grafana": grafana_url,
            }
        )
        with explainer.Stores.connect(urls, timeout=timeout) as stores:
            if trace is not None:
                explanation = explainer.explain_trace(
                    trace, stores, window=_last(window_seconds), log_limit=log_limit
                )
            elif fingerprint is not None:
                explanation = explainer.explain_fingerprint(
                    fingerprint, stores, window=_last(window_seconds), log_limit=log_limit
                )
            else:
                assert alert is not None
                explanation = explainer.explain_alert(
                    alert, stores, window_seconds=window_seconds, exemplars=exemplars, log_limit=log_limit
                )
    except ExplainError as exc:
        raise fail(exc) from None

    if as_json:
        typer.echo(json.dumps(explanation.to_dict(), indent=2, default=str))
    else:
        render(explanation, out)
    raise typer.Exit(EXIT_OK if explanation.complete else EXIT_PROBLEM)


def _last(seconds: float | None) -> Window | None:
    """The last ``seconds`` up to now (None: the explainer's default)."""
    if seconds is None:
        return None
    now = time.time()
    return Window(now - seconds, now)


EPILOG = (
    f"Exit codes: {EXIT_OK} complete; {EXIT_PROBLEM} not found, a store unreachable or the explanation "
    f"incomplete; {EXIT_BAD_ARGUMENTS} bad arguments."
)


def register(app: typer.Typer) -> None:
    app.command("explain", epilog=EPILOG)(explain)
