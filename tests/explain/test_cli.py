"""``otel-ops explain`` on the real pipeline: an alert held by a real Alertmanager, a trace, an error group;
its JSON, its readable output, and its errors (a store down, an unknown id, a malformed id)."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from otel_ops.cli import app
from otel_ops.explain.grafana import datasource_uids, datasources_file
from tests.collector.processes import PROMETHEUS, Process, wait_for
from tests.explain.pipeline import ERROR_TYPE, ROUTE, Pipeline, new_trace_id
from tests.sidecar.servers import Alertmanager, start_alertmanager
from tests.support.ports import free_port

ENV = {"COLUMNS": "250", "OTEL_OPS_STATE_DIR": "/nonexistent-otel-ops-state"}


def explain(*args: str) -> Result:
    return CliRunner().invoke(app, ["explain", *args], env=ENV)


def explain_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = explain(*args, "--json")
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    server = start_alertmanager(tmp_path_factory.mktemp("alertmanager"))
    yield server
    server.process.stop()


@pytest.fixture
def alert(pipeline: Pipeline, alertmanager: Alertmanager) -> tuple[str, str]:
    """An SLO alert on the pipeline's service, held by Alertmanager as Prometheus would send it."""
    name = f"CheckoutErrorBudgetBurn{uuid.uuid4().hex[:6]}"
    labels = {
        "alertname": name,
        "severity": "page",
        "alert_family": "slo_error_budget",
        "service_name": pipeline.service_name,
    }
    fingerprint = alertmanager.post(labels, {"summary": f"{pipeline.service_name}: error budget burning"})
    return name, fingerprint


def urls(pipeline: Pipeline, alertmanager: Alertmanager | None = None) -> list[str]:
    flags = pipeline.cli_urls()
    if alertmanager is not None:
        flags[flags.index("--alertmanager-url") + 1] = alertmanager.url
    return flags


def test_an_alert_explained_names_route_trace_logs_and_error(
    pipeline: Pipeline, alertmanager: Alertmanager, alert: tuple[str, str]
) -> None:
    name, fingerprint = alert
    code, out = explain_json(name, *urls(pipeline, alertmanager))
    assert code == 0, out["problems"]
    assert out["subject"] == "alert" and out["complete"] is True
    assert out["alert"]["name"] == name and out["alert"]["fingerprint"] == fingerprint
    assert out["alert"]["source"] == "Alertmanager"
    assert out["alert"]["labels"]["service_name"] == pipeline.service_name
    assert out["failing_routes"][0]["route"] == ROUTE
    # Failing exemplars come first for an error alert; the slow request is among the slowest.
    first = out["exemplars"][0]
    assert first["failing"] and first["trace_id"] in pipeline.declined and first["route"] == ROUTE
    assert set(pipeline.slow) <= {e["trace_id"] for e in out["exemplars"]}
    trace = out["trace"]
    assert trace["trace_id"] == out["trace_id"] in pipeline.declined
    assert (trace["route"], trace["http_status_code"], trace["failed"]) == (ROUTE, 500, True)
    messages = [record["message"] for record in out["logs"]]
    assert messages[0] == "checkout started" and messages[-1] == "Exception in ASGI application"
    assert {record["trace_id"] for record in out["logs"]} == {trace["trace_id"]}
    [error] = out["errors"]
    assert (error["fingerprint"], error["type"], error["count"]) == (pipeline.fingerprint, ERROR_TYPE, 3)
    assert error["log_records"] == 3 and error["example_trace_id"] == trace["trace_id"]
    titles = [link["title"] for link in out["links"]]
    assert any("alert's expression" in t for t in titles) is False  # a posted alert has no rule
    assert any(link["store"] == "VictoriaLogs" and "/select/vmui/" in link["url"] for link in out["links"])
    assert any(link["url"].endswith(f"/api/v3/traces/{trace['trace_id']}") for link in out["links"])


def test_an_alert_is_found_by_fingerprint_prefix_and_read_as_a_tree(
    pipeline: Pipeline, alertmanager: Alertmanager, alert: tuple[str, str]
) -> None:
    _, fingerprint = alert
    result = explain(fingerprint[:8], *urls(pipeline, alertmanager))
    assert result.exit_code == 0, result.output
    text = result.stdout
    for expected in (
        f"service_name={pipeline.service_name}",
        "Exemplar traces of the alerted series",
        f"POST {ROUTE}",
        "HTTP 500",
        "gpt-4o-mini (openai)",
        "120→30 tokens",
        "payment provider refused order",
        f"{ERROR_TYPE}: card declined for order",
        pipeline.fingerprint,
        "Open in the stores",
        "Jaeger's web UI is not part of the native stack",
    ):
        assert expected in text, expected


def test_a_trace_explained(pipeline: Pipeline) -> None:
    trace_id = pipeline.paid[0]
    code, out = explain_json("--trace", trace_id.upper(), *urls(pipeline))
    assert code == 0, out
    assert out["subject"] == "trace" and out["trace_id"] == trace_id and out["errors"] == []
    spans = out["trace"]["spans"]
    assert [(s["depth"], s["kind"]) for s in spans] == [(0, "server"), (1, "client")]
    assert spans[0]["http_route"] == ROUTE and spans[0]["http_status_code"] == 200
    assert spans[1]["genai"]["model"] == "gpt-4o-mini" and spans[1]["genai"]["output_tokens"] == 30
    assert out["trace"]["genai"]["calls"] == 1 and out["trace"]["genai"]["cost_usd"] > 0
    assert [r["message"] for r in out["logs"]] == ["checkout started", "checkout done"]


def test_a_failed_trace_lists_its_error_with_counts(pipeline: Pipeline) -> None:
    code, out = explain_json("--trace", pipeline.declined[0], *urls(pipeline))
    assert code == 0, out
    [error] = out["errors"]
    assert error["fingerprint"] == pipeline.fingerprint and error["count"] == 3
    assert error["message"] == "card declined for order 1000"


def test_an_error_fingerprint_explained(pipeline: Pipeline) -> None:
    code, out = explain_json("--fingerprint", pipeline.fingerprint, *urls(pipeline))
    assert code == 0, out
    [error] = out["errors"]
    assert (error["count"], error["log_records"], error["type"]) == (3, 3, ERROR_TYPE)
    assert error["services"] == [pipeline.service_name]
    assert set(error["trace_ids"]) == set(pipeline.declined)
    assert error["first_seen"] <= error["last_seen"]
    assert out["trace_id"] == error["example_trace_id"] in pipeline.declined
    assert out["trace"]["failed"] and len(out["fingerprint_logs"]) == 3
    assert {r["fingerprint"] for r in out["fingerprint_logs"]} == {pipeline.fingerprint}


def test_grafana_links_use_the_provisioned_datasources(pipeline: Pipeline) -> None:
    code, out = explain_json(
        "--trace", pipeline.declined[0], "--grafana-url", "http://grafana:3000", *urls(pipeline)
    )
    assert code == 0
    provisioned = datasource_uids()
    assert datasources_file() is not None  # read from the stack files, not assumed
    assert provisioned == {
        "prometheus": "otel-ops-prometheus",
        "tempo": "otel-ops-tempo",
        "loki": "otel-ops-loki",
    }
    grafana = [link for link in out["links"] if link["store"] == "Grafana"]
    assert grafana
    panes = [
        json.loads(urllib.parse.parse_qs(urllib.parse.urlsplit(link["url"]).query)["panes"][0])
        for link in grafana
    ]
    trace_pane = next(p["explain"] for p in panes if p["explain"]["datasource"] == provisioned["tempo"])
    assert trace_pane["queries"][0]["query"] == pipeline.declined[0]
    logs_pane = next(p["explain"] for p in panes if p["explain"]["datasource"] == provisioned["loki"])
    assert f'trace_id="{pipeline.declined[0]}"' in logs_pane["queries"][0]["expr"]
    assert all(
        link["url"].startswith("http://grafana:3000/explore?schemaVersion=1&panes=") for link in grafana
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trace", "not-a-trace-id"], "malformed trace id 'not-a-trace-id'"),
        (["--trace", "0" * 32], "invalid trace id"),
        (["--fingerprint", "xyz"], "malformed error fingerprint 'xyz'"),
        ([], "give exactly one of ALERT, --trace or --fingerprint"),
        (["SomeAlert", "--trace", "4bf92f3577b34da6a3ce929d0e0e4736"], "(got ALERT, --trace)"),
        (["--trace", "4bf92f3577b34da6a3ce929d0e0e4736", "--window", "soon"], "invalid --window 'soon'"),
        (
            ["--trace", "4bf92f3577b34da6a3ce929d0e0e4736", "--jaeger-url", "jaeger:16686"],
            "invalid jaeger URL",
        ),
    ],
)
def test_bad_arguments_exit_2_with_a_reason(args: list[str], message: str) -> None:
    result = explain(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_an_unknown_trace_exits_1_naming_both_stores(pipeline: Pipeline) -> None:
    unknown = new_trace_id()
    result = explain("--trace", unknown, *urls(pipeline))
    assert result.exit_code == 1
    assert f"trace {unknown} is neither in Jaeger ({pipeline.jaeger_url})" in result.stderr
    assert f"nor in VictoriaLogs ({pipeline.victorialogs_url})" in result.stderr
    code, out = explain_json("--trace", unknown, *urls(pipeline))
    assert code == 1 and out["error"]["exit_code"] == 1 and unknown in out["error"]["message"]


def test_an_unknown_alert_or_fingerprint_exits_1(pipeline: Pipeline, alertmanager: Alertmanager) -> None:
    result = explain("NoSuchAlert", *urls(pipeline, alertmanager))
    assert result.exit_code == 1
    assert f"no active alert 'NoSuchAlert' in Alertmanager ({alertmanager.url})" in result.stderr
    assert "otel-ops alerts list" in result.stderr
    missing = explain("--fingerprint", "0123456789abcdef", *urls(pipeline))
    assert missing.exit_code == 1 and "no error with fingerprint 0123456789abcdef" in missing.stderr


def test_a_store_down_is_named_with_its_url_and_what_to_do(pipeline: Pipeline, closed_url: str) -> None:
    flags = urls(pipeline)
    flags[flags.index("--jaeger-url") + 1] = closed_url
    result = explain("--trace", pipeline.paid[1], *flags)
    # The logs are still shown; the explanation says what is missing and the exit code that it is incomplete.
    assert result.exit_code == 1
    assert f"Jaeger at {closed_url}: is not reachable" in result.stdout
    assert "otel-ops up" in result.stdout and "--jaeger-url" in result.stdout
    assert "checkout done" in result.stdout
    code, out = explain_json("--trace", pipeline.paid[1], *flags)
    assert code == 1 and out["complete"] is False and out["trace"] is None
    assert [(p["store"], p["url"]) for p in out["problems"]] == [("Jaeger", closed_url)]
    assert [r["message"] for r in out["logs"]] == ["checkout started", "checkout done"]


def test_alertmanager_and_prometheus_down_exit_1(pipeline: Pipeline, closed_url: str) -> None:
    flags = urls(pipeline)
    flags[flags.index("--prometheus-url") + 1] = closed_url
    result = explain("SomeAlert", *flags)
    assert result.exit_code == 1
    assert "Alertmanager at http://127.0.0.1:" in result.stderr and "is not reachable" in result.stderr


@pytest.fixture(scope="module")
def ruled_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus whose one rule fires at once (for an alert only Prometheus holds)."""
    workdir = tmp_path_factory.mktemp("ruled-prometheus")
    port = free_port()
    (workdir / "rules.yml").write_text(
        "groups:\n- name: explain\n  interval: 1s\n  rules:\n"
        "  - alert: CheckoutAlwaysFiring\n    expr: vector(1)\n"
        "    labels: {severity: ticket, service_name: checkout}\n"
        "    annotations: {summary: always}\n"
    )
    (workdir / "prometheus.yml").write_text("global: {evaluation_interval: 1s}\nrule_files: [rules.yml]\n")
    process = Process(
        name="prometheus",
        command=[
            PROMETHEUS,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        log=workdir / "prometheus.log",
    )
    process.start()
    try:
        process.wait_until(f"http://127.0.0.1:{port}/-/ready", 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def test_an_alert_only_prometheus_holds_is_explained_without_alertmanager(
    pipeline: Pipeline, ruled_prometheus: str
) -> None:
    flags = urls(pipeline)
    flags[flags.index("--prometheus-url") + 1] = ruled_prometheus

    def explained() -> dict[str, Any] | None:
        code, out = explain_json("CheckoutAlwaysFiring", *flags)
        return out if code == 0 else None

    out = wait_for(explained, 20, "the rule's alert explained from Prometheus")
    alert = out["alert"]
    assert (alert["source"], alert["state"], alert["fingerprint"]) == ("Prometheus", "firing", None)
    assert alert["expression"] == "vector(1)" and alert["labels"]["service_name"] == "checkout"
    assert out["problems"] == [] and any("Alertmanager at http://127.0.0.1:" in n for n in out["notes"])
