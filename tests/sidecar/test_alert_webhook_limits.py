"""The webhook takes what Alertmanager sends and nothing that could break the sidecar: bodies are bounded in
size (413), payloads are checked against Alertmanager's webhook schema (422), and the alert history
answers whatever the audit log holds."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otel_ops.sidecar.settings import SidecarSettings, load_settings
from tests.collector.processes import free_port
from tests.sidecar.servers import Sidecar

WEBHOOK = "/api/v1/alerts/webhook"


def notification(labels: dict[str, str] | None = None, **alert_fields: Any) -> dict[str, Any]:
    """A notification as Alertmanager 0.25 sends it, for one firing alert."""
    labels = labels or {"alertname": f"Hook{uuid.uuid4().hex[:8]}", "severity": "ticket"}
    return {
        "version": "4",
        "groupKey": '{}:{alertname="x"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "sidecar",
        "groupLabels": {"alertname": labels["alertname"]},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": "disk filling"},
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus/graph",
                "fingerprint": uuid.uuid4().hex[:16],
                **alert_fields,
            }
        ],
    }


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"deeper": value}
    return value


def audit_lines(settings: SidecarSettings) -> list[str]:
    path = settings.audit_log_path
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def settings(data_dir: Path) -> SidecarSettings:
    # Prometheus is not running: pointers are left out at once, which these tests do not look at.
    return SidecarSettings(
        port=free_port(),
        data_dir=data_dir,
        check_interval=3600,
        prometheus_url=f"http://127.0.0.1:{free_port()}",
    )


@pytest.fixture
def sidecar(settings: SidecarSettings) -> Iterator[Sidecar]:
    with Sidecar(settings) as server:
        yield server


def test_a_body_over_the_limit_is_413_and_nothing_is_recorded(sidecar: Sidecar) -> None:
    assert sidecar.settings.max_body_bytes == 1024 * 1024  # the documented default
    ten_megabytes = notification(annotations={"summary": "x" * 10_000_000})
    with sidecar.client() as client:
        declared = client.post(WEBHOOK, json=ten_megabytes)
        streamed = client.post(  # no Content-Length: the sidecar counts what arrives
            WEBHOOK,
            content=(b"x" * 65536 for _ in range(40)),
            headers={"Content-Type": "application/json"},
        )
        history = client.get("/api/v1/alerts/history")
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["detail"] == (
            "request body is larger than the sidecar accepts (1048576 bytes); "
            "raise OTEL_OPS_MAX_BODY_BYTES if such bodies are expected"
        )
    assert history.status_code == 200 and history.json() == {"entries": []}
    assert audit_lines(sidecar.settings) == []


def test_the_body_limit_is_the_setting_otel_ops_max_body_bytes(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv("OTEL_OPS_MAX_BODY_BYTES", "4096")
    settings = load_settings(port=free_port(), data_dir=data_dir, check_interval=3600)
    small = notification(annotations={"summary": "x" * 2000})
    large = notification(annotations={"summary": "x" * 5000})
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        accepted = client.post(WEBHOOK, json=small)
        refused = client.post(WEBHOOK, json=large)
    assert accepted.status_code == 200, accepted.text
    assert refused.status_code == 413 and "(4096 bytes)" in refused.json()["detail"]
    assert len(audit_lines(settings)) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # The probe's payload: a label nested 900 levels deep.
        (
            notification(labels={"alertname": "Deep", "nest": nested(900)}),
            "alerts.0.labels.nest: Input should be",
        ),
        (notification(annotations={"summary": {"text": "not a string"}}), "alerts.0.annotations.summary"),
        (notification(newField=nested(900)), "alerts.0: unknown field 'newField' nests deeper than 8 levels"),
        ({**notification(), "future": nested(9)}, "unknown field 'future' nests deeper than 8 levels"),
        ({**notification(), **{f"extra{i}": i for i in range(33)}}, "33 unknown fields (at most 32"),
        ({**notification(), "alerts": [{"status": "firing"}]}, "alerts.0.labels: Field required"),
        (
            {**notification(), "alerts": [{"labels": {}, "status": "pending"}]},
            "alerts.0.status: Input should be",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "body is not valid JSON: nested too deeply"),
        (b'{"alerts": [], "x": "\xff\xfe"}', "body is not valid JSON: not UTF-8 text"),
        (b'{"alerts": [', "body is not valid JSON"),
    ],
    ids=[
        "label-nested-900",
        "annotation-object",
        "alert-extra-nested-900",
        "extra-nested-9",
        "33-extras",
        "no-labels",
        "unknown-status",
        "json-nested-100000",
        "not-utf8",
        "truncated",
    ],
)
def test_a_payload_alertmanager_would_not_send_is_422_and_history_keeps_answering(
    sidecar: Sidecar, body: dict[str, Any] | bytes, message: str
) -> None:
    with sidecar.client() as client:
        if isinstance(body, bytes):
            response = client.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"})
        else:
            response = client.post(WEBHOOK, json=body)
        history = client.get("/api/v1/alerts/history")
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert history.status_code == 200 and history.json() == {"entries": []}


def test_fields_alertmanager_may_add_are_tolerated_and_not_recorded(sidecar: Sidecar) -> None:
    labels = {"alertname": "Tolerant", "severity": "ticket"}
    body = {**notification(labels, silenceURL={"href": "http://am/#/silences/new"}), "schemaHint": [1, [2]]}
    with sidecar.client() as client:
        response = client.post(WEBHOOK, json=body)
        [entry] = client.get("/api/v1/alerts/history").json()["entries"]
    assert response.status_code == 200 and response.json() == {"received": 1}
    assert (entry["action"], entry["labels"], entry["status"]) == ("notification", labels, "firing")
    assert "silenceURL" not in json.dumps(entry) and "schemaHint" not in json.dumps(entry)


def test_history_skips_damaged_lines_of_the_audit_log(settings: SidecarSettings) -> None:
    def entry(actor: str) -> bytes:
        line = {"time": "2026-01-01T00:00:00+00:00", "action": "resolve", "actor": actor, "fingerprint": "ab"}
        return json.dumps(line).encode()

    damaged = [
        entry("first"),
        json.dumps({"time": "t", "action": "notification", "actor": "x", "labels": nested(900)}).encode(),
        b"[" * 100_000 + b"]" * 100_000,
        b"[1, 2]",
        b'{"time": "t", "action": 5, "actor": "x"}',
        b"\xff\xfe not text",
        b'{"time": "t", "action": "resol',
        entry("last"),
    ]
    settings.data_dir.mkdir(parents=True)
    settings.audit_log_path.write_bytes(b"\n".join(damaged) + b"\n")
    with Sidecar(settings) as sidecar, sidecar.client() as client:
        everything = client.get("/api/v1/alerts/history")
        newest = client.get("/api/v1/alerts/history", params={"limit": 1, "fingerprint": "ab"})
    assert everything.status_code == 200, everything.text
    assert [e["actor"] for e in everything.json()["entries"]] == ["last", "first"]
    assert [e["actor"] for e in newest.json()["entries"]] == ["last"]
