"""Grafana provisioning: data-source uids and cross-links, dashboards, and that every PromQL
expression of the dashboards parses (promtool)."""

from __future__ import annotations

import configparser
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.stack_config.conftest import GRAFANA_DIR, dashboards, datasources, load_yaml, run
from tests.stack_config.promql import (
    dashboard_expressions,
    dashboard_panels,
    datasource_queries,
    grafana_to_promql,
    variable_selectors,
    variables_used,
)

DATASOURCES_FILE = GRAFANA_DIR / "provisioning" / "datasources" / "datasources.yaml"


def _by_type() -> dict[str, dict[str, Any]]:
    return {ds["type"]: ds for ds in datasources()}


def _uids() -> dict[str, str]:
    return {ds["uid"]: ds["type"] for ds in datasources()}


def _walk(node: Any, key: str) -> list[Any]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == key] + [x for v in node.values() for x in _walk(v, key)]
    if isinstance(node, list):
        return [x for v in node for x in _walk(v, key)]
    return []


# --- Data sources ----------------------------------------------------------------------------------


def test_datasource_uids_are_fixed_and_unique() -> None:
    uids = [ds.get("uid") for ds in datasources()]
    assert all(uids) and len(uids) == len(set(uids))
    assert set(_by_type()) >= {"prometheus", "tempo", "loki"}


def test_every_linked_uid_is_provisioned() -> None:
    linked = _walk(datasources(), "datasourceUid")
    assert len(linked) >= 6
    assert set(linked) <= set(_uids())


def test_prometheus_exemplars_link_trace_id_to_tempo() -> None:
    destinations = _by_type()["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert [(d["name"], _uids()[d["datasourceUid"]]) for d in destinations] == [("trace_id", "tempo")]


def test_tempo_links_to_logs_metrics_and_service_map() -> None:
    tempo = _by_type()["tempo"]["jsonData"]
    uids = _uids()
    logs = tempo["tracesToLogsV2"]
    assert uids[logs["datasourceUid"]] == "loki"
    assert {"key": "service.name", "value": "service_name"} in logs["tags"]
    # OTLP logs in Loki keep the trace id as structured metadata: filter on the label, not the line.
    assert logs["customQuery"] is True
    assert re.search(r'\| trace_id="\$\$\{__span\.traceId\}"', logs["query"])
    assert "$${__tags}" in logs["query"]
    metrics = tempo["tracesToMetrics"]
    assert uids[metrics["datasourceUid"]] == "prometheus"
    assert {"key": "service.name", "value": "service_name"} in metrics["tags"]
    assert all("traces_span_metrics_" in q["query"] for q in metrics["queries"])
    assert uids[tempo["serviceMap"]["datasourceUid"]] == "prometheus"
    assert uids[tempo["lokiSearch"]["datasourceUid"]] == "loki"


def test_loki_derived_field_on_the_trace_id_label_links_to_tempo() -> None:
    fields = _by_type()["loki"]["jsonData"]["derivedFields"]
    assert len(fields) == 1
    field = fields[0]
    assert field["matcherType"] == "label"
    assert field["matcherRegex"] == "trace_id"
    assert _uids()[field["datasourceUid"]] == "tempo"
    assert field["url"] == "$${__value.raw}"


def test_grafana_variables_in_provisioning_are_escaped() -> None:
    """Grafana expands $VAR / ${VAR} from the environment in provisioning files; `$$` is a literal `$`.
    An unescaped ${__value.raw} would silently become empty."""
    text = DATASOURCES_FILE.read_text()
    unescaped = re.findall(r"(?<!\$)\$(?!\$)\{?\w+", re.sub(r"\$\$", "", text))
    assert unescaped == []


def test_dashboard_provider_reads_the_dashboards_directory_from_env() -> None:
    provider = load_yaml(GRAFANA_DIR / "provisioning" / "dashboards" / "dashboards.yaml")["providers"][0]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "${OTEL_OPS_GRAFANA_DASHBOARDS_DIR}"


def test_anonymous_access_is_off_and_no_password_in_files() -> None:
    ini = configparser.ConfigParser(inline_comment_prefixes=(";",))
    ini.read(GRAFANA_DIR / "grafana.ini")
    assert ini.get("auth.anonymous", "enabled") == "false"
    assert not ini.has_option("security", "admin_password")
    for path in GRAFANA_DIR.rglob("*"):
        if path.is_file() and path.suffix in {".yaml", ".yml", ".ini", ".json"}:
            assert "admin_password" not in path.read_text(), path


# --- Dashboards ------------------------------------------------------------------------------------


def _generator() -> Any:
    path = GRAFANA_DIR / "generate_dashboards.py"
    spec = importlib.util.spec_from_file_location("generate_dashboards", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_dashboards"] = module
    spec.loader.exec_module(module)
    return module


def test_dashboards_are_up_to_date_with_the_generator() -> None:
    assert _generator().main(["--check"]) == 0


EXPECTED_DASHBOARDS = {
    "otel-ops-service-red",
    "otel-ops-errors",
    "otel-ops-genai",
    "otel-ops-process",
    "otel-ops-collector",
    "otel-ops-sidecar",
}


def test_dashboards_parse_with_unique_uids() -> None:
    uids = [d["uid"] for d in dashboards().values()]
    assert sorted(uids) == sorted(EXPECTED_DASHBOARDS)


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_every_panel_uses_a_provisioned_datasource(name: str) -> None:
    uids = _uids()
    panels = list(dashboard_panels(dashboards()[name]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] in uids, panel["title"]
        assert panel["datasource"]["type"] == uids[panel["datasource"]["uid"]], panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in uids, panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
    for variable in dashboards()[name]["templating"]["list"]:
        assert variable["datasource"]["uid"] in uids


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_every_variable_used_is_defined(name: str) -> None:
    dashboard = dashboards()[name]
    defined = {v["name"] for v in dashboard["templating"]["list"]}
    for panel in dashboard_panels(dashboard):
        for target in panel.get("targets", []):
            assert variables_used(target.get("expr", "")) <= defined, (
                f"{panel['title']}: {target.get('expr')}"
            )


def test_latency_panels_show_exemplars() -> None:
    exemplar_panels = [
        panel["title"]
        for d in dashboards().values()
        for panel in dashboard_panels(d)
        if any(t.get("exemplar") for t in panel.get("targets", []))
    ]
    assert any("Latency" in t for t in exemplar_panels)
    assert any("span metrics" in t for t in exemplar_panels)


def test_loki_panels_select_by_service() -> None:
    for d in dashboards().values():
        for panel in dashboard_panels(d):
            for target in panel.get("targets", []):
                if target.get("datasource", {}).get("type") == "loki":
                    assert target["expr"].startswith('{service_name=~"$service"}'), target["expr"]


def test_every_promql_expression_parses(promtool: str, tmp_path: Path) -> None:
    expressions = dashboard_expressions() + variable_selectors() + datasource_queries()
    assert len(expressions) > 50
    rules = [
        {"record": f"check:expr_{i}", "expr": grafana_to_promql(expr)}
        for i, (_, expr) in enumerate(expressions)
    ]
    path = tmp_path / "expressions.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "expressions", "rules": rules}]}))
    result = run([promtool, "check", "rules", str(path)])
    if result.returncode != 0:
        where = {f"check:expr_{i}": w for i, (w, _) in enumerate(expressions)}
        detail = re.sub(r"check:expr_\d+", lambda m: where.get(m.group(0), m.group(0)), result.stderr)
        pytest.fail(f"unparsable PromQL:\n{detail}")
