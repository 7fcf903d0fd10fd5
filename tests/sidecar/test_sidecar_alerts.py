"""Acknowledge / resolve round trips through the sidecar, checked in a real Alertmanager's API."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from otel_ops.cli import app as cli
from otel_ops.sidecar.alerts import pointers
from otel_ops.sidecar.settings import SidecarSettings
from otel_ops.stack.pidfiles import PidRecord, process_start_time
from tests.collector.processes import Prometheus, free_port, wait_for
from tests.explain.pipeline import Pipeline, running_pipeline
from tests.sidecar.servers import Alertmanager, Sidecar, read_events, start_alertmanager


def unique_labels() -> dict[str, str]:
    return {"alertname": f"TestAlert{uuid.uuid4().hex[:8]}", "severity": "ticket", "service_name": "api"}


@pytest.fixture
def sidecar(alertmanager: Alertmanager, data_dir: Path) -> Iterator[Sidecar]:
    settings = SidecarSettings(
        port=free_port(), data_dir=data_dir, alertmanager_url=alertmanager.url, check_interval=3600
    )
    with Sidecar(settings) as server:
        yield server


def test_list_ack_resolve_round_trip(alertmanager: Alertmanager, sidecar: Sidecar) -> None:
    labels = unique_labels()
    fingerprint = alertmanager.post(labels, {"summary": "errors are up"})
    with sidecar.client() as client:
        listed = {a["fingerprint"]: a for a in client.get("/api/v1/alerts").json()["alerts"]}
        assert listed[fingerprint]["alertname"] == labels["alertname"]
        assert listed[fingerprint]["annotations"]["summary"] == "errors are up"

        ack = client.post(
            f"/api/v1/alerts/{fingerprint}/ack",
            json={"author": "alice", "comment": "looking into it", "expires": "30m"},
        )
        assert ack.status_code == 201, ack.text
        silence_id = ack.json()["silenceId"]
        [silence] = [s for s in alertmanager.silences() if s["id"] == silence_id]
        assert silence["status"]["state"] == "active"
        assert (silence["createdBy"], silence["comment"]) == ("alice", "looking into it")
        assert {(m["name"], m["value"]) for m in silence["matchers"]} == set(labels.items())
        [alert] = [a for a in alertmanager.alerts() if a["fingerprint"] == fingerprint]
        assert alert["status"]["state"] == "suppressed" and alert["status"]["silencedBy"] == [silence_id]

        resolved = client.post(
            f"/api/v1/alerts/{fingerprint}/resolve", json={"author": "bob", "comment": "fixed"}
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["expiredSilences"] == [silence_id]
        assert fingerprint not in {a["fingerprint"] for a in alertmanager.alerts()}
        [silence] = [s for s in alertmanager.silences() if s["id"] == silence_id]
        assert silence["status"]["state"] == "expired"

        history = client.get("/api/v1/alerts/history", params={"fingerprint": fingerprint}).json()["entries"]
        assert [(e["action"], e["actor"]) for e in history] == [("resolve", "bob"), ("acknowledge", "alice")]
        assert history[1]["silence_id"] == silence_id
        assert client.post(f"/api/v1/alerts/{fingerprint}/resolve", json={"author": "bob"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"author": "alice", "expires": "1h"}, 422, "comment: Field required"),
        ({"author": "alice", "comment": "  ", "expires": "1h"}, 422, "comment must not be empty"),
        ({"author": "alice", "comment": "x", "expires": "2020-01-01T00:00:00Z"}, 422, "not in the future"),
        ({"author": "alice", "comment": "x", "expires": "soon"}, 422, "neither a duration"),
        # An acknowledgement lasts 1 minute to 90 days; beyond that, and far beyond, a 422 says so.
        *(
            ({"author": "alice", "comment": "x", "expires": expires}, 422, "between 1 minute and 90 days")
            for expires in (
                "9999999d",
                "9" * 40 + "s",
                "91d",
                "2160h1s",
                "59s",
                "2999-01-01T00:00:00Z",
                "9999-12-31T23:59:59-23:59",
            )
        ),
    ],
)
def test_bad_ack_requests(
    alertmanager: Alertmanager, sidecar: Sidecar, body: dict[str, str], status: int, message: str
) -> None:
    fingerprint = alertmanager.post(unique_labels())
    with sidecar.client() as client:
        response = client.post(f"/api/v1/alerts/{fingerprint}/ack", json=body)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert response.json()["errors"] == [response.json()["detail"]]
    assert not [s for s in alertmanager.silences() if s["createdBy"] == "alice" and s["comment"] == "x"]


def test_unknown_fingerprint_is_404(sidecar: Sidecar) -> None:
    with sidecar.client() as client:
        response = client.post(
            "/api/v1/alerts/0123456789abcdef/ack", json={"author": "a", "comment": "c", "expires": "1h"}
        )
        assert response.status_code == 404
        assert "no active alert with fingerprint '0123456789abcdef'" in response.json()["detail"]
        assert client.get("/api/v1/alerts/0123456789abcdef").status_code == 404
        short = client.post("/api/v1/alerts/ab/ack", json={"author": "a", "comment": "c", "expires": "1h"})
        assert short.status_code == 404
        assert "(a prefix needs at least 4 characters)" in short.json()["detail"]


def test_alertmanager_down_is_502(data_dir: Path) -> None:
    settings = SidecarSettings(
        port=free_port(), data_dir=data_dir, alertmanager_url=f"http://127.0.0.1:{free_port()}"
    )
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        response = client.get("/api/v1/alerts")
    assert response.status_code == 502 and "unreachable" in response.json()["detail"]


def test_webhook_from_real_alertmanager_reaches_audit_log_and_events(tmp_path: Path, data_dir: Path) -> None:
    settings = SidecarSettings(port=free_port(), data_dir=data_dir, check_interval=3600, api_token="t0ken")
    with Sidecar(settings) as sidecar:
        manager = start_alertmanager(
            tmp_path / "am", webhook_url=f"{sidecar.url}/api/v1/alerts/webhook", token="t0ken"
        )
        try:
            headers = {"Authorization": "Bearer t0ken"}
            with httpx.stream(
                "GET", f"{sidecar.url}/events?types=alert", headers=headers, timeout=15
            ) as stream:
                lines = stream.iter_lines()
                assert next(lines) == ": connected"
                labels = unique_labels()
                fingerprint = manager.post(labels, {"summary": "disk filling"})
                [event] = list(read_events(lines, 1, timeout=15))
        finally:
            manager.process.stop()
    assert event == {**event, "type": "alert", "action": "notification", "fingerprint": fingerprint}
    assert event["status"] == "firing" and event["labels"] == labels
    audit = [json.loads(line) for line in settings.audit_log_path.read_text().splitlines()]
    assert any(e["action"] == "notification" and e["fingerprint"] == fingerprint for e in audit)


def test_webhook_rejects_malformed_payload(sidecar: Sidecar) -> None:
    with sidecar.client() as client:
        response = client.post("/api/v1/alerts/webhook", json={"version": "4"})
        assert response.status_code == 422 and "alerts" in response.json()["detail"]
        assert client.post("/api/v1/alerts/webhook", content=b"not json").status_code == 422


def test_cli_list_ack_resolve(alertmanager: Alertmanager, tmp_path: Path) -> None:
    labels = unique_labels()
    fingerprint = alertmanager.post(labels, {"summary": "cli test"})
    runner = CliRunner()
    common = ["--alertmanager", alertmanager.url]
    listed = runner.invoke(cli, ["alerts", "list", *common], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert fingerprint in listed.output and labels["alertname"] in listed.output

    audit_dir = ["--data-dir", str(tmp_path)]
    missing = runner.invoke(cli, ["alerts", "ack", fingerprint, *common])
    assert missing.exit_code != 0 and "--comment" in missing.output

    acked = runner.invoke(
        cli,
        [
            "alerts",
            "ack",
            fingerprint[:8],
            "-c",
            "on it",
            "-e",
            "1h",
            "--author",
            "carol",
            *common,
            *audit_dir,
        ],
    )
    assert acked.exit_code == 0, acked.output
    assert wait_for(
        lambda: [s for s in alertmanager.silences() if s["createdBy"] == "carol" and s["comment"] == "on it"],
        5,
        "silence from the CLI",
    )
    past = runner.invoke(
        cli, ["alerts", "ack", fingerprint, "-c", "x", "-e", "2001-01-01T00:00:00", *common, *audit_dir]
    )
    assert past.exit_code == 2 and "not in the future" in past.output
    for expires in ("9999999d", "100d"):
        too_long = runner.invoke(cli, ["alerts", "ack", fingerprint, "-c", "x", "-e", expires, *common])
        assert too_long.exit_code == 2, too_long.output
        assert isinstance(too_long.exception, SystemExit)  # a clear error, no traceback
        assert f"expiry '{expires}' is out of range" in too_long.output
        assert "between 1 minute and 90 days" in too_long.output and "Traceback" not in too_long.output

    resolved = runner.invoke(
        cli, ["alerts", "resolve", fingerprint, "--author", "carol", *common, *audit_dir]
    )
    assert resolved.exit_code == 0, resolved.output
    assert fingerprint not in {a["fingerprint"] for a in alertmanager.alerts()}
    actions = [json.loads(line)["action"] for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert actions == ["acknowledge", "resolve"]

    unknown = runner.invoke(cli, ["alerts", "resolve", "ffffffffffffffff", *common, *audit_dir])
    assert unknown.exit_code == 1 and "no active alert" in unknown.output


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """A service with failed checkouts whose traces, logs and metrics reached Jaeger, VictoriaLogs and a
    real Prometheus."""
    with running_pipeline(tmp_path_factory.mktemp("pipeline")) as running:
        yield running


def test_a_firing_alerts_notification_records_its_exemplar_trace_and_top_error(
    pipeline: Pipeline, tmp_path: Path, data_dir: Path
) -> None:
    port = free_port()
    manager = start_alertmanager(
        tmp_path / "am", webhook_url=f"http://127.0.0.1:{port}/api/v1/alerts/webhook", token="t0ken"
    )
    settings = SidecarSettings(
        port=port,
        data_dir=data_dir,
        check_interval=3600,
        api_token="t0ken",
        prometheus_url=pipeline.prometheus.url,
        alertmanager_url=manager.url,
    )
    headers = {"Authorization": "Bearer t0ken"}
    try:
        with Sidecar(settings) as sidecar:
            with httpx.stream(
                "GET", f"{sidecar.url}/events?types=alert", headers=headers, timeout=20
            ) as stream:
                lines = stream.iter_lines()
                assert next(lines) == ": connected"
                labels = {**unique_labels(), "service_name": pipeline.service_name}
                fingerprint = manager.post(labels, {"summary": "checkout errors"})
                [event] = list(read_events(lines, 1, timeout=20))
            with sidecar.client("t0ken") as client:
                listed = {a["fingerprint"]: a for a in client.get("/api/v1/alerts").json()["alerts"]}
        listing = CliRunner().invoke(
            cli,
            ["alerts", "list", "--alertmanager", manager.url, "--data-dir", str(data_dir)],
            env={"COLUMNS": "300"},
        )
    finally:
        manager.process.stop()
    assert event["action"] == "notification" and event["fingerprint"] == fingerprint
    # An error alert leads to a failing request's trace, and to the error that failed it.
    assert event["exemplar_trace_id"] in pipeline.declined
    assert event["top_error_fingerprint"] == pipeline.fingerprint
    [audited] = [
        json.loads(line)
        for line in settings.audit_log_path.read_text().splitlines()
        if json.loads(line)["fingerprint"] == fingerprint
    ]
    assert audited["exemplar_trace_id"] == event["exemplar_trace_id"]
    assert listed[fingerprint]["exemplarTraceId"] == event["exemplar_trace_id"]
    assert listed[fingerprint]["topErrorFingerprint"] == pipeline.fingerprint
    assert listing.exit_code == 0, listing.output
    assert event["exemplar_trace_id"] in listing.output and pipeline.fingerprint in listing.output
    assert "otel-ops explain" in listing.output


def test_a_notification_is_recorded_when_prometheus_cannot_say_more(data_dir: Path) -> None:
    settings = SidecarSettings(
        port=free_port(),
        data_dir=data_dir,
        check_interval=3600,
        prometheus_url=f"http://127.0.0.1:{free_port()}",
    )
    labels = {**unique_labels(), "service_name": "checkout"}
    payload = {
        "version": "4",
        "status": "firing",
        "receiver": "sidecar",
        "groupKey": "{}:{alertname}",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {},
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "0123456789abcdef",
            },
            {"status": "resolved", "labels": labels, "fingerprint": "0123456789abcdef"},
        ],
    }
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        response = client.post("/api/v1/alerts/webhook", json=payload)
    assert response.status_code == 200 and response.json() == {"received": 2}
    entries = [json.loads(line) for line in settings.audit_log_path.read_text().splitlines()]
    assert [(e["status"], e["exemplar_trace_id"], e["top_error_fingerprint"]) for e in entries] == [
        ("firing", None, None),
        ("resolved", None, None),
    ]


def _exemplar_queries(prometheus: Prometheus) -> float:
    """Exemplar queries Prometheus has answered, from its own metrics."""
    text = httpx.get(f"{prometheus.url}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("prometheus_http_requests_total{") and 'handler="/api/v1/query_exemplars"' in line
    )


def test_a_notification_of_a_large_group_looks_up_a_bounded_number_of_alerts(
    prometheus: Prometheus, data_dir: Path
) -> None:
    # One alert per pod of a failing deployment: every alert is recorded, only the first few are looked up.
    settings = SidecarSettings(
        port=free_port(), data_dir=data_dir, check_interval=3600, prometheus_url=prometheus.url
    )
    alerts = [
        {
            "status": "firing",
            "labels": {**unique_labels(), "service_name": "checkout", "pod": f"checkout-{index}"},
            "startsAt": "2026-01-01T00:00:00Z",
            "fingerprint": f"{index:016x}",
        }
        for index in range(300)
    ]
    before = _exemplar_queries(prometheus)
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        response = client.post("/api/v1/alerts/webhook", json={"version": "4", "alerts": alerts})
    assert response.status_code == 200 and response.json() == {"received": 300}
    entries = [json.loads(line) for line in settings.audit_log_path.read_text().splitlines()]
    assert len(entries) == 300
    assert 1 <= _exemplar_queries(prometheus) - before <= pointers.MAX_LOOKUPS


def test_cli_finds_the_alertmanager_of_the_local_stack(
    alertmanager: Alertmanager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `otel-ops up --alertmanager-port N` records N; `alerts list` then needs no --alertmanager.
    state = tmp_path / "state"
    port = int(alertmanager.url.rsplit(":", 1)[1])
    PidRecord(
        name="alertmanager",
        pid=os.getpid(),
        start_time=process_start_time(os.getpid()) or 0,
        port=port,
        ready_url=f"{alertmanager.url}/-/ready",
        log=str(tmp_path / "alertmanager.log"),
        command=["prometheus-alertmanager"],
    ).write(state)
    monkeypatch.delenv("OTEL_OPS_ALERTMANAGER_URL", raising=False)
    monkeypatch.setenv("OTEL_OPS_STATE_DIR", str(state))
    labels = unique_labels()
    fingerprint = alertmanager.post(labels, {"summary": "local stack"})
    listed = CliRunner().invoke(cli, ["alerts", "list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert fingerprint in listed.output and labels["alertname"] in listed.output


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--alertmanager", "notaurl"], {}, "'notaurl' (--alertmanager)"),
        (["--alertmanager-url", "http://localhost:99999"], {}, "'http://localhost:99999' (--alertmanager)"),
        ([], {"OTEL_OPS_ALERTMANAGER_URL": "localhost:9093"}, "'localhost:9093' (OTEL_OPS_ALERTMANAGER_URL)"),
    ],
)
def test_cli_names_a_bad_alertmanager_url_where_it_came_from(
    args: list[str], env: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_OPS_ALERTMANAGER_URL", raising=False)
    result = CliRunner().invoke(cli, ["alerts", "list", *args], env=env)
    assert result.exit_code == 2, result.output
    assert f"invalid Alertmanager URL {named}: give it as http://host:port" in result.output
    assert "Traceback" not in result.output


def test_cli_ignores_sidecar_settings_it_does_not_use(alertmanager: Alertmanager, tmp_path: Path) -> None:
    # The sidecar's own settings (its port, its checks) are not this command's business.
    env = {"OTEL_OPS_PORT": "abc", "OTEL_OPS_PROMETHEUS_URL": "nonsense", "COLUMNS": "250"}
    fingerprint = alertmanager.post(unique_labels(), {"summary": "unrelated settings"})
    listed = CliRunner().invoke(
        cli, ["alerts", "list", "--alertmanager", alertmanager.url, "--data-dir", str(tmp_path)], env=env
    )
    assert listed.exit_code == 0, listed.output
    assert fingerprint in listed.output
