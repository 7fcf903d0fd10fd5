"""Write the otel-ops Grafana dashboards (grafana/dashboards/*.json).

Usage:
    python grafana/generate_dashboards.py            # (re)write the JSON files
    python grafana/generate_dashboards.py --check    # exit 1 if a file is out of date

Every panel names its data source by the fixed uid provisioned in
grafana/provisioning/datasources/datasources.yaml. Metric names are those the pipeline writes to
Prometheus (collector remote write, resource attributes as labels, so every series has service_name).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT_DIR = Path(__file__).resolve().parent / "dashboards"

PROMETHEUS = {"type": "prometheus", "uid": "otel-ops-prometheus"}
LOKI = {"type": "loki", "uid": "otel-ops-loki"}
TEMPO = {"type": "tempo", "uid": "otel-ops-tempo"}

# Selector fragments shared by the panels.
SVC = 'service_name=~"$service"'
RI = "$__rate_interval"


@dataclass
class Target:
    expr: str
    legend: str = "__auto"
    exemplar: bool = False
    instant: bool = False
    datasource: dict[str, str] = field(default_factory=lambda: PROMETHEUS)

    def to_json(self, ref_id: str) -> dict[str, Any]:
        if self.datasource is LOKI:
            return {"refId": ref_id, "datasource": LOKI, "expr": self.expr, "queryType": "range"}
        if self.datasource is TEMPO:
            return {"refId": ref_id, "datasource": TEMPO, "queryType": self.expr}
        target: dict[str, Any] = {
            "refId": ref_id,
            "datasource": PROMETHEUS,
            "expr": self.expr,
            "legendFormat": self.legend,
            "range": not self.instant,
            "instant": self.instant,
        }
        if self.exemplar:
            target["exemplar"] = True
        return target


@dataclass
class Panel:
    title: str
    targets: list[Target]
    kind: str = "timeseries"
    unit: str = "short"
    width: int = 12
    height: int = 8
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    thresholds: list[tuple[float | None, str]] | None = None
    mappings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Row:
    title: str


def prom(expr: str, legend: str = "__auto", *, exemplar: bool = False, instant: bool = False) -> Target:
    """A PromQL target; the expression may be spread over lines and is written on one."""
    one_line = re.sub(r"\(\s+", "(", " ".join(expr.split()))
    one_line = re.sub(r"\s+([\[)])", r"\1", one_line)
    return Target(expr=one_line, legend=legend, exemplar=exemplar, instant=instant)


def logs(expr: str) -> Target:
    return Target(expr=expr, datasource=LOKI)


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    datasource = panel.targets[0].datasource
    defaults: dict[str, Any] = {"unit": panel.unit, "custom": panel.custom}
    if panel.thresholds is not None:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [{"value": value, "color": color} for value, color in panel.thresholds],
        }
    if panel.mappings:
        defaults["mappings"] = panel.mappings
    result: dict[str, Any] = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "datasource": datasource,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "targets": [t.to_json(chr(ord("A") + i)) for i, t in enumerate(panel.targets)],
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": panel.options,
    }
    if panel.description:
        result["description"] = panel.description
    return result


def _variable(name: str, label: str, query: str, *, multi: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": PROMETHEUS,
        "definition": query,
        "query": {"query": query, "refId": f"{name}-variable"},
        "refresh": 2,
        "sort": 1,
        "multi": multi,
        "includeAll": True,
        "allValue": ".+",
        "current": {"text": "All", "value": "$__all"},
    }


def dashboard(
    uid: str, title: str, description: str, items: list[Panel | Row], variables: list[dict[str, Any]]
):
    panels: list[dict[str, Any]] = []
    x = y = row_height = 0
    for panel_id, item in enumerate(items, start=1):
        if isinstance(item, Row):
            y += row_height
            x = row_height = 0
            panels.append(
                {
                    "id": panel_id,
                    "type": "row",
                    "title": item.title,
                    "collapsed": False,
                    "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                    "panels": [],
                }
            )
            y += 1
            continue
        if x + item.width > 24:
            y += row_height
            x = row_height = 0
        panels.append(_panel_json(item, panel_id, x, y))
        x += item.width
        row_height = max(row_height, item.height)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["otel-ops"],
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "links": [
            {
                "type": "dashboards",
                "tags": ["otel-ops"],
                "asDropdown": True,
                "title": "otel-ops",
                "includeVars": True,
                "keepTime": True,
            }
        ],
        "annotations": {"list": []},
        "templating": {"list": variables},
        "panels": panels,
    }


def service_variable(metric: str) -> dict[str, Any]:
    return _variable("service", "Service", f"label_values({metric}, service_name)")


# --- Panels' shared styles ------------------------------------------------------------------------
LINES = {"drawStyle": "line", "fillOpacity": 10, "showPoints": "never"}
STACKED = {"drawStyle": "line", "fillOpacity": 30, "showPoints": "never", "stacking": {"mode": "normal"}}
LEGEND = {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max"]}}
HEALTH_MAPPINGS = [
    {
        "type": "value",
        "options": {
            "0": {"text": "fail", "color": "red"},
            "0.5": {"text": "warn", "color": "orange"},
            "1": {"text": "pass", "color": "green"},
        },
    }
]


def service_red() -> dict[str, Any]:
    http = "http_server_request_duration_seconds"
    items: list[Panel | Row] = [
        Row("Requests, errors, duration"),
        Panel(
            "Request rate by route",
            [prom(f"sum by (http_route) (rate({http}_count{{{SVC}}}[{RI}]))", "{{http_route}}")],
            unit="reqps",
            custom=STACKED,
            options=LEGEND,
        ),
        Panel(
            "Error ratio (5xx)",
            [
                prom(
                    f"""sum by (service_name) (rate(
                    {http}_count{{{SVC}, http_response_status_code=~"5.."}}[{RI}]))
                    / sum by (service_name) (rate({http}_count{{{SVC}}}[{RI}]))""",
                    "{{service_name}}",
                )
            ],
            unit="percentunit",
            custom=LINES,
            thresholds=[(None, "green"), (0.001, "orange"), (0.01, "red")],
        ),
        Panel(
            "Latency percentiles (exemplars link to traces)",
            [
                prom(
                    f"histogram_quantile({q}, sum by (le) (rate({http}_bucket{{{SVC}}}[{RI}])))",
                    f"p{int(q * 100)}",
                    exemplar=True,
                )
                for q in (0.5, 0.95, 0.99)
            ],
            unit="s",
            custom=LINES,
            description="Click an exemplar (a dot) to open the trace of that request in Tempo.",
        ),
        Panel(
            "p95 latency by route",
            [
                prom(
                    f"histogram_quantile(0.95, sum by (le, http_route) (rate({http}_bucket{{{SVC}}}[{RI}])))",
                    "{{http_route}}",
                )
            ],
            unit="s",
            custom=LINES,
            options=LEGEND,
        ),
        Panel(
            "Server span latency p95 by span (span metrics, exemplars)",
            [
                prom(
                    f"""histogram_quantile(0.95, sum by (le, span_name) (rate(
                    traces_span_metrics_duration_seconds_bucket{{{SVC}, span_kind="SPAN_KIND_SERVER"}}
                    [{RI}])))""",
                    "{{span_name}}",
                    exemplar=True,
                )
            ],
            unit="s",
            custom=LINES,
        ),
        Panel(
            "In-flight requests",
            [prom(f"sum by (service_name) (http_server_active_requests{{{SVC}}})", "{{service_name}}")],
            custom=LINES,
        ),
        Row("SLO (objective in prometheus/slo.yaml)"),
        Panel(
            "Error-budget burn rate",
            [
                prom(f"service:slo_burn_rate:rate{w}{{{SVC}}}", f"{{{{service_name}}}} {w}")
                for w in ("5m", "1h", "6h", "3d")
            ],
            custom=LINES,
            thresholds=[(None, "green"), (1, "orange"), (14.4, "red")],
            description="1 = spending the budget exactly over 30 days; pages at 14.4 (1h) and 6 (6h).",
        ),
        Panel(
            "Error budget spent (30 days)",
            [
                prom(
                    f"avg_over_time(service:slo_burn_rate:rate1h{{{SVC}}}[30d])",
                    "{{service_name}}",
                    instant=True,
                )
            ],
            kind="bargauge",
            unit="percentunit",
            thresholds=[(None, "green"), (0.5, "orange"), (1, "red")],
            description="Mean hourly burn rate over 30 days: 100% = the whole budget (time-weighted).",
        ),
        Row("Dependencies and logs"),
        Panel("Service graph", [Target(expr="serviceMap", datasource=TEMPO)], kind="nodeGraph", height=10),
        Panel(
            "Logs",
            [logs('{service_name=~"$service"}')],
            kind="logs",
            height=10,
            options={"showTime": True, "wrapLogMessage": True, "sortOrder": "Descending"},
        ),
    ]
    return dashboard(
        "otel-ops-service-red",
        "Service RED",
        "Rate, errors and duration of HTTP services, SLO burn rates, dependencies and logs.",
        items,
        [service_variable(f"{http}_count")],
    )


def errors() -> dict[str, Any]:
    items: list[Panel | Row] = [
        Panel(
            "Errors by fingerprint",
            [
                prom(
                    f"sum by (error_type, error_fingerprint) (rate(app_errors_total{{{SVC}}}[{RI}]))",
                    "{{error_type}} {{error_fingerprint}}",
                )
            ],
            unit="ops",
            custom=STACKED,
            options=LEGEND,
            width=24,
        ),
        Panel(
            "Top error fingerprints in the time range",
            [
                prom(
                    f"""topk(20, sum by (service_name, error_type, error_fingerprint, http_route) (
                    increase(app_errors_total{{{SVC}}}[$__range])))""",
                    instant=True,
                )
            ],
            kind="table",
            width=24,
            options={"sortBy": [{"displayName": "Value", "desc": True}]},
        ),
        Panel(
            "Errors by route",
            [prom(f"sum by (http_route) (rate(app_errors_total{{{SVC}}}[{RI}]))", "{{http_route}}")],
            unit="ops",
            custom=LINES,
        ),
        Panel(
            "HTTP 5xx by route and status",
            [
                prom(
                    f"""sum by (http_route, http_response_status_code) (rate(
                    http_server_request_duration_seconds_count{{{SVC}, http_response_status_code=~"5.."}}
                    [{RI}]))""",
                    "{{http_route}} {{http_response_status_code}}",
                )
            ],
            unit="reqps",
            custom=LINES,
        ),
        Panel(
            "Error logs",
            [logs('{service_name=~"$service"} | severity_text=~"(?i)error|critical|fatal"')],
            kind="logs",
            width=24,
            height=12,
            options={"showTime": True, "wrapLogMessage": True, "sortOrder": "Descending"},
        ),
    ]
    return dashboard(
        "otel-ops-errors",
        "Errors",
        "Application errors grouped by fingerprint, failing routes and error logs.",
        items,
        [service_variable("app_errors_total")],
    )


def genai() -> dict[str, Any]:
    sel = f'{SVC}, gen_ai_request_model=~"$model"'
    ops = "gen_ai_client_operation_duration_seconds"
    items: list[Panel | Row] = [
        Row("Cost and tokens"),
        Panel(
            "Spend in the time range",
            [prom(f"sum(increase(gen_ai_client_cost_usd_total{{{sel}}}[$__range]))", "USD", instant=True)],
            kind="stat",
            unit="currencyUSD",
            width=6,
        ),
        Panel(
            "Tokens in the time range",
            [
                prom(
                    f"""sum by (gen_ai_token_type) (
                    increase(gen_ai_client_token_usage_sum{{{sel}}}[$__range]))""",
                    "{{gen_ai_token_type}}",
                    instant=True,
                )
            ],
            kind="stat",
            width=6,
        ),
        Panel(
            "Spend rate by model (USD/hour)",
            [
                prom(
                    f"""sum by (gen_ai_request_model) (
                    rate(gen_ai_client_cost_usd_total{{{sel}}}[{RI}])) * 3600""",
                    "{{gen_ai_request_model}}",
                )
            ],
            unit="currencyUSD",
            custom=STACKED,
        ),
        Panel(
            "Tokens per second by model and type",
            [
                prom(
                    f"""sum by (gen_ai_request_model, gen_ai_token_type) (
                    rate(gen_ai_client_token_usage_sum{{{sel}}}[{RI}]))""",
                    "{{gen_ai_request_model}} {{gen_ai_token_type}}",
                )
            ],
            custom=STACKED,
            options=LEGEND,
        ),
        Panel(
            "Tokens per request p95 by model",
            [
                prom(
                    f"""histogram_quantile(0.95, sum by (le, gen_ai_request_model, gen_ai_token_type) (
                    rate(gen_ai_client_token_usage_bucket{{{sel}}}[{RI}])))""",
                    "{{gen_ai_request_model}} {{gen_ai_token_type}}",
                )
            ],
            custom=LINES,
        ),
        Row("Operations"),
        Panel(
            "Requests per second by model and operation",
            [
                prom(
                    f"""sum by (gen_ai_request_model, gen_ai_operation_name) (
                    rate({ops}_count{{{sel}}}[{RI}]))""",
                    "{{gen_ai_request_model}} {{gen_ai_operation_name}}",
                )
            ],
            unit="reqps",
            custom=LINES,
        ),
        Panel(
            "Operation latency by model (exemplars link to traces)",
            [
                prom(
                    f"""histogram_quantile({q}, sum by (le, gen_ai_request_model) (
                    rate({ops}_bucket{{{sel}}}[{RI}])))""",
                    f"{{{{gen_ai_request_model}}}} p{int(q * 100)}",
                    exemplar=True,
                )
                for q in (0.5, 0.95)
            ],
            unit="s",
            custom=LINES,
        ),
        Panel(
            "Errors by model and type",
            [
                prom(
                    f"""sum by (gen_ai_request_model, error_type) (
                    rate({ops}_count{{{sel}, error_type!=""}}[{RI}]))""",
                    "{{gen_ai_request_model}} {{error_type}}",
                )
            ],
            unit="reqps",
            custom=LINES,
        ),
        Row("Agents"),
        Panel(
            "Agent runs by status",
            [
                prom(
                    f"sum by (gen_ai_agent_name, status) (rate(gen_ai_agent_runs_total{{{SVC}}}[{RI}]))",
                    "{{gen_ai_agent_name}} {{status}}",
                )
            ],
            unit="ops",
            custom=STACKED,
        ),
        Panel(
            "Agent run duration p95",
            [
                prom(
                    f"""histogram_quantile(0.95, sum by (le, gen_ai_agent_name) (
                    rate(gen_ai_agent_duration_seconds_bucket{{{SVC}}}[{RI}])))""",
                    "{{gen_ai_agent_name}}",
                )
            ],
            unit="s",
            custom=LINES,
        ),
    ]
    return dashboard(
        "otel-ops-genai",
        "GenAI usage",
        "Cost, tokens, latency and errors of GenAI calls per model; agent runs.",
        items,
        [
            service_variable(f"{ops}_count"),
            _variable("model", "Model", f"label_values({ops}_count{{{SVC}}}, gen_ai_request_model)"),
        ],
    )


def process() -> dict[str, Any]:
    sel = f'{SVC}, service_instance_id=~"$instance"'
    by = "service_name, service_instance_id"
    legend = "{{service_name}} {{service_instance_id}}"
    items: list[Panel | Row] = [
        Panel(
            "CPU utilization",
            [prom(f"sum by ({by}) (rate(process_cpu_time_seconds_total{{{sel}}}[{RI}]))", legend)],
            unit="percentunit",
            custom=LINES,
            description="CPU seconds per second (1 = one core), all modes.",
        ),
        Panel(
            "CPU by mode",
            [
                prom(
                    f"sum by ({by}, cpu_mode) (rate(process_cpu_time_seconds_total{{{sel}}}[{RI}]))",
                    legend + " {{cpu_mode}}",
                )
            ],
            unit="percentunit",
            custom=STACKED,
        ),
        Panel(
            "Resident memory",
            [prom(f"process_memory_usage_bytes{{{sel}}}", legend)],
            unit="bytes",
            custom=LINES,
            thresholds=[(None, "green"), (1.5 * 1024**3, "red")],
        ),
        Panel(
            "Virtual memory",
            [prom(f"process_memory_virtual_bytes{{{sel}}}", legend)],
            unit="bytes",
            custom=LINES,
        ),
        Panel("Threads", [prom(f"process_thread_count{{{sel}}}", legend)], custom=LINES, width=8),
        Panel(
            "Open file descriptors",
            [prom(f"process_unix_file_descriptor_count{{{sel}}}", legend)],
            custom=LINES,
            width=8,
        ),
        Panel(
            "Garbage collections by generation",
            [
                prom(
                    f"""sum by ({by}, cpython_gc_generation) (
                    rate(cpython_gc_collections_total{{{sel}}}[{RI}]))""",
                    legend + " gen {{cpython_gc_generation}}",
                )
            ],
            unit="ops",
            custom=LINES,
            width=8,
        ),
    ]
    return dashboard(
        "otel-ops-process",
        "Process resources",
        "CPU, memory, threads, file descriptors and garbage collection of instrumented processes.",
        items,
        [
            service_variable("process_memory_usage_bytes"),
            _variable(
                "instance",
                "Instance",
                f"label_values(process_memory_usage_bytes{{{SVC}}}, service_instance_id)",
            ),
        ],
    )


def collector() -> dict[str, Any]:
    def per_signal(metric: str, by: str) -> list[Target]:
        return [
            prom(f"sum by ({by}) (rate(otelcol_{metric}_{sig}[{RI}]))", f"{{{{{by}}}}} {sig}")
            for sig in ("spans", "metric_points", "log_records")
        ]

    items: list[Panel | Row] = [
        Row("Collector: receivers and exporters"),
        Panel("Accepted by receiver", per_signal("receiver_accepted", "receiver"), unit="ops", custom=LINES),
        Panel(
            "Refused by receiver",
            per_signal("receiver_refused", "receiver"),
            unit="ops",
            custom=LINES,
            thresholds=[(None, "green"), (0.001, "red")],
        ),
        Panel("Sent by exporter", per_signal("exporter_sent", "exporter"), unit="ops", custom=LINES),
        Panel(
            "Export failures and drops",
            [
                prom(
                    "sum by (exporter, signal) (job_exporter_signal:otelcol_exporter_send_failed:rate5m)",
                    "{{exporter}} {{signal}} failed",
                ),
                prom(
                    "sum by (exporter, signal) (job_exporter_signal:otelcol_exporter_enqueue_failed:rate5m)",
                    "{{exporter}} {{signal}} dropped (queue full)",
                ),
            ],
            description="5-minute rates (recording rules of prometheus/rules/otel-ops.rules.yml).",
            unit="ops",
            custom=LINES,
        ),
        Panel(
            "Exporter queue usage",
            [
                prom(
                    "max by (exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity)",
                    "{{exporter}}",
                )
            ],
            unit="percentunit",
            custom=LINES,
            thresholds=[(None, "green"), (0.8, "red")],
        ),
        Panel(
            "Exporter queue size",
            [
                prom("max by (exporter) (otelcol_exporter_queue_size)", "{{exporter}} size"),
                prom("max by (exporter) (otelcol_exporter_queue_capacity)", "{{exporter}} capacity"),
            ],
            custom=LINES,
        ),
        Panel(
            "Remote-write WAL backlog",
            [
                prom(
                    "sum by (job, instance) (otelcol_exporter_prometheusremotewrite_wal_bytes_written)"
                    " - sum by (job, instance) (otelcol_exporter_prometheusremotewrite_wal_bytes_read)",
                    "{{instance}}",
                )
            ],
            description="Bytes of metrics in the Collector's remote-write WAL not yet read back to be "
            "sent: it grows while Prometheus is down (OtelCollectorRemoteWriteBacklog).",
            unit="bytes",
            custom=LINES,
        ),
        Panel(
            "Remote writes refused by Prometheus",
            [
                prom(
                    'sum by (instance, code) (rate(prometheus_http_requests_total{handler="/api/v1/write", '
                    f'code=~"4.."}}[{RI}]))',
                    "{{instance}} {{code}}",
                )
            ],
            description="A refused request is sent again until Prometheus takes it, and no newer metric gets "
            "through meanwhile (PrometheusRemoteWriteRefused).",
            unit="ops",
            custom=LINES,
            thresholds=[(None, "green"), (0.001, "red")],
        ),
        Panel(
            "Collector memory (RSS)",
            [prom('otelcol_process_memory_rss{job="otel-collector"}', "{{instance}}")],
            unit="bytes",
            custom=LINES,
        ),
        Panel(
            "Collector CPU",
            [prom(f'rate(otelcol_process_cpu_seconds{{job="otel-collector"}}[{RI}])', "{{instance}}")],
            unit="percentunit",
            custom=LINES,
        ),
        Row("Service SDKs"),
        Panel(
            "SDK queue usage",
            [
                prom(
                    f"""max by (service_name) (
                    otel_sdk_processor_{sig}_queue_size{{{SVC}}}
                    / otel_sdk_processor_{sig}_queue_capacity{{{SVC}}})""",
                    f"{{{{service_name}}}} {sig}s",
                )
                for sig in ("span", "log")
            ],
            unit="percentunit",
            custom=LINES,
            thresholds=[(None, "green"), (0.8, "red")],
        ),
        Panel(
            "SDK dropped",
            [
                prom(
                    f"""sum by (service_name, error_type) (rate(
                    otel_sdk_processor_{sig}_processed_total{{{SVC}, error_type!=""}}[{RI}]))""",
                    f"{{{{service_name}}}} {sig}s {{{{error_type}}}}",
                )
                for sig in ("span", "log")
            ],
            unit="ops",
            custom=LINES,
        ),
    ]
    return dashboard(
        "otel-ops-collector",
        "Telemetry pipeline",
        "Collector receivers, exporters and queues; the services' SDK export queues.",
        items,
        [service_variable("otel_sdk_processor_span_queue_size")],
    )


def sidecar() -> dict[str, Any]:
    items: list[Panel | Row] = [
        Panel(
            "Health checks",
            [prom("otel_ops_health_check_status", "{{check}}")],
            kind="state-timeline",
            width=24,
            thresholds=[(None, "red"), (0.5, "orange"), (1, "green")],
            mappings=HEALTH_MAPPINGS,
        ),
        Panel(
            "Scrape targets",
            [prom("up", "{{job}} {{instance}}", instant=True)],
            kind="stat",
            thresholds=[(None, "red"), (1, "green")],
            mappings=[{"type": "value", "options": {"0": {"text": "down"}, "1": {"text": "up"}}}],
        ),
        Panel(
            "Firing alerts",
            [prom('ALERTS{alertstate="firing"}', instant=True)],
            kind="table",
        ),
        Panel(
            "Anomaly scores",
            [prom("otel_ops_anomaly_score", "{{job}} {{series}}")],
            custom=LINES,
            options=LEGEND,
            width=24,
        ),
        Panel(
            "Series per anomaly job",
            [
                prom("otel_ops_anomaly_job_series", "{{job}} scored"),
                prom("otel_ops_anomaly_job_series_refused", "{{job}} beyond max_series"),
            ],
            custom=LINES,
            options=LEGEND,
            width=24,
        ),
        Panel(
            "Time since last successful backup",
            [prom("time() - otel_ops_backup_last_success_timestamp_seconds", "{{source}}")],
            kind="bargauge",
            unit="s",
            thresholds=[(None, "green"), (24 * 3600, "orange"), (26 * 3600, "red")],
        ),
        Panel(
            "Last successful backup",
            [prom("otel_ops_backup_last_success_timestamp_seconds * 1000", "{{source}}", instant=True)],
            kind="stat",
            unit="dateTimeFromNow",
        ),
    ]
    return dashboard(
        "otel-ops-sidecar",
        "Ops sidecar",
        "Health checks, scrape targets, firing alerts, anomaly scores and backups.",
        items,
        [],
    )


DASHBOARDS = {
    "service-red.json": service_red,
    "errors.json": errors,
    "genai.json": genai,
    "process.json": process,
    "collector.json": collector,
    "sidecar.json": sidecar,
}


def render_all() -> dict[str, str]:
    return {name: json.dumps(build(), indent=2) + "\n" for name, build in DASHBOARDS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render_all().items():
        path = args.out / name
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)}; run {Path(__file__).name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
