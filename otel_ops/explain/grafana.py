"""Links into Grafana Explore with the data sources of the compose stack.

The data source uids come from ``grafana/provisioning/datasources/datasources.yaml`` of the stack files
(the packaged ones, or those of ``--config-dir`` / ``OTEL_OPS_CONFIG_DIR``), where they are fixed so that the
data sources link to each other; without that file, from the values it ships with.
"""

from __future__ import annotations

import json
import urllib.parse
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from otel_ops.explain.model import Link, Window
from otel_ops.stack import files
from otel_ops.stack.processes import StackError

DATASOURCES = ("grafana", "provisioning", "datasources", "datasources.yaml")
DEFAULT_UIDS = {"prometheus": "otel-ops-prometheus", "tempo": "otel-ops-tempo", "loki": "otel-ops-loki"}


def datasources_file() -> Path | None:
    try:
        return files.path(*DATASOURCES)
    except StackError:
        return None


@cache
def _uids(path: Path | None) -> dict[str, str]:
    uids = dict(DEFAULT_UIDS)
    try:
        document = yaml.safe_load(path.read_text()) if path is not None else None
    except (OSError, yaml.YAMLError):
        return uids
    for source in (document or {}).get("datasources") or []:
        kind, uid = source.get("type"), source.get("uid")
        if kind in uids and uid:
            uids[kind] = str(uid)
    return uids


def datasource_uids() -> dict[str, str]:
    """Data source type -> uid, as provisioned (the shipped values when the file is not there)."""
    return _uids(datasources_file())


def explore_url(base: str, kind: str, query: dict[str, Any], window: Window) -> str:
    """Grafana Explore with one pane: ``query`` on the data source of type ``kind`` over ``window``."""
    uid = datasource_uids()[kind]
    pane = {
        "datasource": uid,
        "queries": [{"refId": "A", "datasource": {"type": kind, "uid": uid}, **query}],
        "range": {"from": str(int(window.start * 1000)), "to": str(int(window.end * 1000))},
    }
    panes = json.dumps({"explain": pane}, separators=(",", ":"))
    return f"{base.rstrip('/')}/explore?schemaVersion=1&panes={urllib.parse.quote(panes)}&orgId=1"


def trace_link(base: str, trace_id: str, window: Window) -> Link:
    query = {"queryType": "traceql", "query": trace_id}
    return Link("Grafana Explore: the trace (Tempo)", explore_url(base, "tempo", query, window), "Grafana")


def logs_link(base: str, title: str, logql: str, window: Window) -> Link:
    query = {"expr": logql, "queryType": "range"}
    return Link(title, explore_url(base, "loki", query, window), "Grafana")


def metrics_link(base: str, title: str, promql: str, window: Window) -> Link:
    query = {"expr": promql, "range": True, "exemplar": True}
    return Link(title, explore_url(base, "prometheus", query, window), "Grafana")
