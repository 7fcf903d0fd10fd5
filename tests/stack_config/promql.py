"""Every PromQL expression of the stack (dashboards, Grafana variables and data-source links, rules),
made checkable by substituting Grafana's macros and variables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tests.stack_config.conftest import all_rules, dashboards, datasources

PROMETHEUS_UID = "otel-ops-prometheus"

# Grafana macros -> what Grafana would substitute for a 1-hour dashboard.
MACROS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "${__tags}": 'service_name="demo"',
    "$__tags": 'service_name="demo"',
}
# Dashboard variables are all used inside regex matchers (=~"$var"); "All" is ".+".
_VARIABLE = re.compile(r"\$\{?([A-Za-z_]\w*)\}?")
_LABEL_VALUES = re.compile(r"^label_values\((.+),\s*\w+\)$")


def grafana_to_promql(expr: str) -> str:
    for macro, value in MACROS.items():
        expr = expr.replace(macro, value)
    return _VARIABLE.sub(".+", expr)


def variables_used(expr: str) -> set[str]:
    for macro in MACROS:
        expr = expr.replace(macro, "")
    return set(_VARIABLE.findall(expr))


def _panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in items:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return _panels(dashboard["panels"])


def dashboard_expressions() -> list[tuple[str, str]]:
    """(where, Grafana expression) of every Prometheus target of every dashboard panel."""
    found = []
    for name, dashboard in dashboards().items():
        for panel in dashboard_panels(dashboard):
            for target in panel.get("targets", []):
                uid = (target.get("datasource") or panel.get("datasource") or {}).get("uid")
                if uid == PROMETHEUS_UID:
                    found.append((f"{name}: {panel['title']} [{target['refId']}]", target["expr"]))
    return found


def variable_selectors() -> list[tuple[str, str]]:
    """The series selector inside every label_values() dashboard variable."""
    found = []
    for name, dashboard in dashboards().items():
        for variable in dashboard["templating"]["list"]:
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            match = _LABEL_VALUES.match(query)
            assert match, f"{name}: variable {variable['name']}: not a label_values() query: {query}"
            found.append((f"{name}: variable {variable['name']}", match.group(1)))
    return found


def datasource_queries() -> list[tuple[str, str]]:
    """The trace-to-metrics queries of the Tempo data source."""
    found = []
    for ds in datasources():
        for query in ds.get("jsonData", {}).get("tracesToMetrics", {}).get("queries", []):
            # `$$` in provisioning files is a literal `$`.
            found.append((f"datasource {ds['name']}: {query['name']}", query["query"].replace("$$", "$")))
    return found


def rule_expressions() -> list[tuple[str, str]]:
    return [(rule.get("record") or rule["alert"], rule["expr"]) for rule in all_rules()]
