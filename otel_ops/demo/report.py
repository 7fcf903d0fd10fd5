"""What the demo's telemetry looks like in Prometheus: series found, their counts, exemplars, errors.

Metric names are discovered from Prometheus rather than assumed, because they depend on the Collector
version and the metric name translation (e.g. ``traces_span_metrics_calls_total``). Every query is limited
to one demo run by its ``demo_run_id`` label (resource attribute ``demo.run.id``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from otel_ops.stack.prometheus_api import PrometheusClient

RUN_LABEL = "demo_run_id"

# Section -> patterns for the metric name, first match wins.
METRIC_PATTERNS: dict[str, tuple[str, ...]] = {
    "http": (r"^http_server_request_duration(_seconds)?_count$",),
    "span_calls": (r"^traces_span_metrics_calls(_total)?$", r"span_metrics_calls(_total)?$"),
    "span_duration": (
        r"^traces_span_metrics_duration(_seconds|_milliseconds)?_bucket$",
        r"span_metrics_duration\w*_bucket$",
    ),
    "tokens": (r"^gen_ai_client_token_usage\w*_sum$",),
    "cost": (r"^gen_ai_client_cost\w*$",),
    "agent_runs": (r"^gen_ai_agent_runs\w*$",),
    "errors": (r"^app_errors(_total)?$",),
}

GROUP_BY: dict[str, tuple[str, ...]] = {
    "http": ("http_request_method", "http_route", "http_response_status_code"),
    "span_calls": ("span_name", "span_kind", "status_code"),
    "tokens": ("gen_ai_request_model", "gen_ai_token_type"),
    "cost": ("gen_ai_request_model",),
    "agent_runs": ("gen_ai_agent_name",),
    "errors": ("error_type", "error_fingerprint", "http_route"),
}

TITLES = {
    "http": "HTTP server requests",
    "span_calls": "Span metrics (calls)",
    "tokens": "GenAI tokens",
    "cost": "GenAI cost (USD)",
    "agent_runs": "Agent runs",
    "errors": "Error fingerprints",
}


@dataclass(frozen=True)
class Row:
    labels: dict[str, str]
    value: float


@dataclass
class DemoReport:
    metric_names: dict[str, str] = field(default_factory=dict)
    sections: dict[str, list[Row]] = field(default_factory=dict)
    exemplars: list[dict[str, str]] = field(default_factory=list)

    def total(self, section: str) -> float:
        return sum(row.value for row in self.sections.get(section, []))

    @property
    def missing(self) -> list[str]:
        """Required sections without any non-zero series: telemetry that did not arrive."""
        return [name for name in ("http", "span_calls") if self.total(name) <= 0]


def discover(names: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for section, patterns in METRIC_PATTERNS.items():
        for pattern in patterns:
            match = next((name for name in sorted(names) if re.search(pattern, name)), None)
            if match:
                found[section] = match
                break
    return found


def _rows(result: list[dict[str, Any]]) -> list[Row]:
    rows = [Row(labels=dict(item["metric"]), value=float(item["value"][1])) for item in result]
    return sorted(rows, key=lambda row: -row.value)


def collect(client: PrometheusClient, run_id: str) -> DemoReport:
    report = DemoReport(metric_names=discover(client.metric_names()))
    selector = f'{{{RUN_LABEL}="{run_id}"}}'
    for section, metric in report.metric_names.items():
        if section not in GROUP_BY:
            continue
        by = ", ".join(GROUP_BY[section])
        report.sections[section] = _rows(client.query(f"sum by ({by}) ({metric}{selector})"))
    bucket = report.metric_names.get("span_duration")
    if bucket:
        for series in client.exemplars(f"{bucket}{selector}"):
            labels = series.get("seriesLabels", {})
            for exemplar in series.get("exemplars", []):
                report.exemplars.append(
                    {
                        "span_name": labels.get("span_name", ""),
                        "le": labels.get("le", ""),
                        "trace_id": exemplar.get("labels", {}).get("trace_id", ""),
                        "value": exemplar.get("value", ""),
                    }
                )
    return report


def _format(value: float, section: str) -> str:
    return f"{value:.4f}" if section == "cost" else f"{value:,.0f}"


def _label_text(labels: dict[str, str]) -> str:
    shown = []
    for key, value in sorted(labels.items()):
        if not value:
            continue
        if key == "error_type":
            value = value.rsplit(".", 1)[-1]
        elif key == "error_fingerprint":
            value = value[:12]
        shown.append(f"{key}={value}")
    return "  ".join(shown)


def render(report: DemoReport, console: Console, max_rows: int = 12, max_exemplars: int = 5) -> None:
    table = Table(title="Telemetry in Prometheus", title_justify="left")
    table.add_column("series (labels)", overflow="fold")
    table.add_column("value", justify="right", no_wrap=True)
    for section, title in TITLES.items():
        metric = report.metric_names.get(section)
        rows = report.sections.get(section, [])
        table.add_row(f"[bold]{title}[/]  [dim]{metric or 'metric not found'}[/]", "")
        if not rows:
            table.add_row("  [red]no series[/]", "0")
        for row in rows[:max_rows]:
            table.add_row(f"  {_label_text(row.labels)}", _format(row.value, section))
        if len(rows) > max_rows:
            table.add_row(f"  … {len(rows) - max_rows} more series", "")
        table.add_section()
    console.print(table)

    exemplars = Table(title="Exemplars: slowest spans with their trace ids", title_justify="left")
    exemplars.add_column("span_name")
    exemplars.add_column("seconds", justify="right")
    exemplars.add_column("trace_id", no_wrap=True)
    shown = sorted(report.exemplars, key=lambda e: -float(e["value"] or 0))[:max_exemplars]
    for exemplar in shown:
        exemplars.add_row(exemplar["span_name"], f"{float(exemplar['value']):.3f}", exemplar["trace_id"])
    if not shown:
        exemplars.add_row("[red]none[/]", "", "")
    console.print(exemplars)
    console.print(f"{len(report.exemplars)} exemplars in total.")
