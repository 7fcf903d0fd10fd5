"""Links into Grafana Explore with the data sources of the compose stack.

The data source uids come from ``grafana/provisioning/datasources/datasources.yaml`` when the repository
is at hand (they are fixed there so that the data sources can link to each other), else from the values
that file sets.
"""

from __future__ import annotations

import json
import urllib.parse
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from otel_ops.explain.model import Link, Window

DATASOURCES_FILE = (
    Path(__file__).resolve().parents[2] / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
)
DEFAULT_UIDS = {"prometheus": "otel-ops-prometheus", "tempo": "otel-ops-tempo", "loki": "otel-ops-loki"}


@cache
def datasource_uids(path: Path = DATASOURCES_FILE) -> dict[str, str]:
    """Data source type -> uid, as provisioned (the defaults when the file is not there)."""
    uids = dict(DEFAULT_UIDS)
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return uids
    for source in (document or {}).get("datasources") or []:
        kind, uid = source.get("type"), source.get("uid")
        if kind in uids and uid:
            uids[kind] = str(uid)
    return uids


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
