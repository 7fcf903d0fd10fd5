"""Bearer-token protection: everything but live, ready and /metrics needs the token."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_ops.sidecar.settings import SidecarSettings
from tests.collector.processes import free_port
from tests.sidecar.servers import Sidecar

TOKEN = "s3cr3t-token-value"
PROTECTED = [
    ("GET", "/health"),
    ("GET", "/health/detailed"),
    ("GET", "/api/v1/alerts"),
    ("GET", "/api/v1/alerts/history"),
    ("POST", "/api/v1/alerts/webhook"),
    ("POST", "/api/v1/alerts/abcd/ack"),
    ("POST", "/api/v1/alerts/abcd/resolve"),
    ("GET", "/events"),
    ("GET", "/api/v1/backups"),
    ("POST", "/api/v1/backups"),
    ("POST", "/api/v1/backups/abcd/verify"),
]


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sidecar]:
    token_file = tmp_path_factory.mktemp("secrets") / "token"
    token_file.write_text(TOKEN + "\n")
    dead = f"http://127.0.0.1:{free_port()}"
    settings = SidecarSettings(
        port=free_port(),
        data_dir=tmp_path_factory.mktemp("data"),
        api_token_file=token_file,
        prometheus_url=dead,
        alertmanager_url=dead,
        collector_health_url=dead,
        check_interval=3600,
    )
    with Sidecar(settings) as server:
        yield server


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_protected_without_or_with_wrong_token(sidecar: Sidecar, method: str, path: str) -> None:
    with sidecar.client() as anonymous, sidecar.client("wrong-token") as wrong:
        missing = anonymous.request(method, path, json={})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert "missing bearer token" in missing.json()["detail"]
        bad = wrong.request(method, path, json={})
        assert bad.status_code == 401 and bad.json()["detail"] == "invalid bearer token"
        assert TOKEN not in bad.text
    with sidecar.client() as anonymous:
        basic = anonymous.request(method, path, headers={"Authorization": f"Basic {TOKEN}"})
        assert basic.status_code == 401 and "malformed" in basic.json()["detail"]


def test_right_token_passes(sidecar: Sidecar) -> None:
    with sidecar.client(TOKEN) as client:
        assert client.get("/health/detailed").status_code == 503  # deps are down: authorised, answered
        assert client.get("/api/v1/alerts/history").status_code == 200
        assert client.post("/api/v1/alerts/webhook", json={"alerts": []}).json() == {"received": 0}


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/metrics"])
def test_open_endpoints(sidecar: Sidecar, path: str) -> None:
    with sidecar.client() as anonymous:
        assert anonymous.get(path).status_code in (200, 503)
        assert anonymous.get(path).status_code != 401


def test_metrics_can_require_the_token(tmp_path: Path) -> None:
    settings = SidecarSettings(
        port=free_port(), data_dir=tmp_path, api_token=TOKEN, metrics_require_auth=True, check_interval=3600
    )
    with Sidecar(settings) as sidecar, sidecar.client() as anonymous, sidecar.client(TOKEN) as client:
        assert anonymous.get("/metrics").status_code == 401
        assert client.get("/metrics").status_code == 200


def test_token_never_logged(sidecar: Sidecar, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with sidecar.client("not-" + TOKEN) as wrong, sidecar.client(TOKEN) as right:
        wrong.get("/health")
        right.get("/health")
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(sidecar.settings)


def test_metrics_include_health_and_backup_series(sidecar: Sidecar) -> None:
    with sidecar.client() as anonymous:
        body = anonymous.get("/metrics").text
    assert "otel_ops_health_check_status" in body
    assert "otel_ops_backup_last_success_timestamp_seconds" in body
