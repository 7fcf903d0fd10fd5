"""The native stack's sidecar and Alertmanager share one token: the API is closed, the shared
configuration's webhook (retargeted to this stack's sidecar port) is accepted."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from otel_ops.sidecar.jobs import load_jobs
from otel_ops.stack import components, files
from otel_ops.stack.alertmanager_config import alertmanager_config, shared_config
from otel_ops.stack.ports import StackPorts
from tests.stack.conftest import Stack, requires_stack, wait_for


def test_standard_ports_run_the_shared_alertmanager_config_from_the_directory_of_its_secrets(
    tmp_path: Path,
) -> None:
    # Alertmanager opens the webhook's credentials_file relative to its configuration file's directory
    # and the global *_file secrets relative to its working directory: the copy it runs on lives in its
    # working directory, so the sidecar's token is found there (from the shipped file's directory, every
    # notification to the sidecar failed).
    process = components.alertmanager_process(StackPorts(), tmp_path)
    [config] = [Path(a.split("=", 1)[1]) for a in process.command if a.startswith("--config.file=")]
    assert config.parent == process.cwd
    derived = yaml.safe_load(config.read_text())
    shared = yaml.safe_load(shared_config().read_text())
    assert derived["templates"] == [str(shared_config().parent / "templates" / "*.tmpl")]
    for key in ("global", "route", "inhibit_rules"):
        assert derived[key] == shared[key]
    [webhook] = next(r for r in derived["receivers"] if r["name"] == "sidecar")["webhook_configs"]
    assert webhook["url"] == "http://127.0.0.1:8000/api/v1/alerts/webhook"
    credentials = webhook["http_config"]["authorization"]["credentials_file"]
    assert config.parent / credentials == components.sidecar_token_file(tmp_path)
    assert (config.parent / credentials).read_text().strip()


def test_other_ports_derive_the_alertmanager_config_from_the_shared_file(tmp_path: Path) -> None:
    ports = StackPorts(alertmanager=19093, sidecar=18000)
    path = alertmanager_config(ports, tmp_path)
    derived = yaml.safe_load(path.read_text())
    shared = yaml.safe_load(shared_config().read_text())
    by_name = {r["name"]: r for r in derived["receivers"]}
    [webhook] = by_name["sidecar"]["webhook_configs"]
    assert webhook["url"] == "http://127.0.0.1:18000/api/v1/alerts/webhook"
    assert webhook["http_config"]["authorization"]["credentials_file"] == "secrets/sidecar_token"
    assert derived["templates"] == [str(shared_config().parent / "templates" / "*.tmpl")]
    # Everything else is the shared file's.
    for key in ("global", "route", "inhibit_rules"):
        assert derived[key] == shared[key]
    assert [r for r in derived["receivers"] if r["name"] != "sidecar"] == [
        r for r in shared["receivers"] if r["name"] != "sidecar"
    ]
    amtool = shutil.which("amtool")
    if amtool:
        check = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_the_sidecar_token_is_generated_once_and_private(tmp_path: Path) -> None:
    token_file = components.sidecar_token_file(tmp_path)
    token = token_file.read_text().strip()
    assert len(token) >= 32
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert components.sidecar_token_file(tmp_path).read_text().strip() == token
    process = components.sidecar_process(StackPorts(), tmp_path)
    assert process.env["OTEL_OPS_API_TOKEN_FILE"] == str(token_file.resolve())
    assert process.env["OTEL_OPS_API_TOKEN"] is None  # a token in the caller's environment is not used


def test_the_sidecar_runs_the_stacks_anomaly_jobs_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_OPS_ANOMALY_JOBS_FILE", raising=False)
    shared = components.sidecar_process(StackPorts(), tmp_path).env["OTEL_OPS_ANOMALY_JOBS_FILE"]
    assert shared == str((files.root() / "prometheus" / "anomaly-jobs.yml").resolve())
    assert [job.name for job in load_jobs(Path(shared))] == ["request-rate", "error-ratio", "latency-p95"]
    own = tmp_path / "jobs.yaml"
    monkeypatch.setenv("OTEL_OPS_ANOMALY_JOBS_FILE", str(own))
    assert components.sidecar_process(StackPorts(), tmp_path).env["OTEL_OPS_ANOMALY_JOBS_FILE"] == str(own)
    older = tmp_path / "config"  # a configuration directory written before the file existed
    (older / "prometheus").mkdir(parents=True)
    monkeypatch.delenv("OTEL_OPS_ANOMALY_JOBS_FILE")
    monkeypatch.setenv(files.CONFIG_DIR_ENV, str(older))
    assert components.sidecar_process(StackPorts(), tmp_path).env["OTEL_OPS_ANOMALY_JOBS_FILE"] is None


def _status(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=3) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _post_alert(alertmanager: str, labels: dict[str, str]) -> None:
    body = json.dumps([{"labels": labels, "annotations": {"summary": "webhook test"}}]).encode()
    request = urllib.request.Request(
        f"{alertmanager}/api/v2/alerts", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@pytest.mark.slow
@pytest.mark.timeout(240)
@requires_stack
def test_alertmanager_notifications_reach_the_token_protected_sidecar(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory(env={"OTEL_OPS_API_TOKEN": "not-the-stack-token"})
    sidecar = f"http://127.0.0.1:{stack.ports['--sidecar-port']}"
    token = (stack.state / "alertmanager" / "secrets" / "sidecar_token").read_text().strip()

    assert _status(f"{sidecar}/health/live") == 200
    assert _status(f"{sidecar}/api/v1/alerts/history") == 401
    assert _status(f"{sidecar}/api/v1/alerts/history", "not-the-stack-token") == 401
    assert _status(f"{sidecar}/api/v1/alerts/history", token) == 200

    # It runs the stack's anomaly jobs (on an idle stack: no series yet, nothing failing).
    def job_checks() -> list[dict[str, object]]:
        request = urllib.request.Request(
            f"{sidecar}/health/detailed", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return list(json.loads(response.read())["checks"].get("anomaly-job:runs", []))

    def ran() -> list[dict[str, object]] | None:
        checks = job_checks()
        return checks if len(checks) == 3 and all("observedValue" in c for c in checks) else None

    checks = wait_for("the anomaly jobs' first runs", ran, timeout=90)
    assert sorted(c["componentId"] for c in checks) == ["error-ratio", "latency-p95", "request-rate"]
    assert all(c["status"] == "pass" for c in checks), checks

    alertname = f"WebhookTest{uuid.uuid4().hex[:8]}"
    _post_alert(stack.alertmanager, {"alertname": alertname, "severity": "ticket", "service_name": "svc"})
    audit = stack.state / "sidecar" / "audit.jsonl"

    def notified() -> bool:
        lines = audit.read_text().splitlines() if audit.is_file() else []
        return any(
            entry["action"] == "notification" and entry.get("labels", {}).get("alertname") == alertname
            for entry in map(json.loads, lines)
        )

    # The shared route waits group_wait (30 s) before the first notification of a group.
    wait_for("the webhook notification in the sidecar's audit log", notified, timeout=90)
    am_log = (stack.state / "logs" / "alertmanager.log").read_text()
    assert "status code 401" not in am_log, am_log[-2000:]  # no notification was ever refused
