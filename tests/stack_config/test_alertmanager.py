"""Alertmanager: amtool check-config, routing cases, notification templates, inhibition on a real
Alertmanager."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from otel_ops.stack.alertmanager_config import alertmanager_config, ensure_sidecar_token
from otel_ops.stack.ports import StackPorts
from tests.collector.processes import Process, free_port, http_get, wait_for
from tests.stack_config.conftest import ALERTMANAGER_DIR, alert_rules, load_yaml, run

CONFIG = ALERTMANAGER_DIR / "alertmanager.yml"
SEVERITY_RECEIVERS = {"page": ["sidecar", "slack-page"], "ticket": ["sidecar", "email-ticket"]}


def _route(amtool: str, labels: dict[str, str]) -> list[str]:
    result = run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={CONFIG}",
            *(f"{k}={v}" for k, v in labels.items()),
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().split(",")


def test_amtool_check_config(amtool: str) -> None:
    result = run([amtool, "check-config", str(CONFIG)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout


ROUTE_CASES = load_yaml(ALERTMANAGER_DIR / "tests" / "routes.yaml")


@pytest.mark.parametrize("case", ROUTE_CASES, ids=[c["labels"]["alertname"] for c in ROUTE_CASES])
def test_routing_cases(amtool: str, case: dict[str, Any]) -> None:
    assert _route(amtool, case["labels"]) == case["receivers"]


def test_every_alert_rule_routes_by_its_severity(amtool: str) -> None:
    for rule in alert_rules():
        labels = {"alertname": rule["alert"], "service_name": "svc", **rule["labels"]}
        assert _route(amtool, labels) == SEVERITY_RECEIVERS[rule["labels"]["severity"]], rule["alert"]


def test_no_secret_is_inline() -> None:
    config = load_yaml(CONFIG)
    text = CONFIG.read_text()
    assert "hooks.slack.com" not in text
    assert "slack_api_url" not in config["global"] and "smtp_auth_password" not in config["global"]
    assert config["global"]["slack_api_url_file"] and config["global"]["smtp_auth_password_file"]
    for receiver in config["receivers"]:
        for slack in receiver.get("slack_configs", []):
            assert "api_url" not in slack
        for email in receiver.get("email_configs", []):
            assert "auth_password" not in email


def test_webhook_goes_to_the_sidecar_with_its_token_from_a_file() -> None:
    receivers = {r["name"]: r for r in load_yaml(CONFIG)["receivers"]}
    [webhook] = receivers["sidecar"]["webhook_configs"]
    assert webhook["url"] == "http://localhost:8000/api/v1/alerts/webhook"
    assert webhook["http_config"]["authorization"] == {
        "type": "Bearer",
        "credentials_file": "secrets/sidecar_token",
    }


TEMPLATES = {
    "otelops.title": "[FIRING:1] page SLOErrorBudgetBurnFast (api)",
    "otelops.dashboard_url": "http://localhost:3000/d/otel-ops-service-red?var-service=api",
    "otelops.slack.color": "danger",
}


@pytest.mark.parametrize(("name", "expected"), TEMPLATES.items())
def test_templates_render(amtool: str, name: str, expected: str) -> None:
    assert _render(amtool, name) == expected


def test_slack_and_email_bodies_carry_summary_and_links(amtool: str) -> None:
    for name, kind in (
        ("otelops.slack.text", "text"),
        ("otelops.email.text", "text"),
        ("otelops.email.html", "html"),
    ):
        body = _render(amtool, name, kind)
        assert "api: error budget burning at 20.0x over 1h" in body, name
        assert "prometheus/RUNBOOKS.md#sloerrorbudgetburn" in body, name
        assert "http://localhost:3000/d/otel-ops-service-red?var-service=api" in body, name


def _render(amtool: str, name: str, kind: str = "text") -> str:
    result = run(
        [
            amtool,
            "template",
            "render",
            f"--template.glob={ALERTMANAGER_DIR / 'templates' / '*.tmpl'}",
            f"--template.data={ALERTMANAGER_DIR / 'tests' / 'notification.json'}",
            f"--template.type={kind}",
            f'--template.text={{{{ template "{name}" . }}}}',
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


# --- Inhibition on a real Alertmanager -----------------------------------------------------------------


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _running_alertmanager(CONFIG, tmp_path_factory.mktemp("alertmanager")) as url:
        yield url


@contextlib.contextmanager
def _running_alertmanager(config: Path, workdir: Path) -> Iterator[str]:
    """A real Alertmanager on ``config``, working directory ``workdir``; yields its URL."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        pytest.skip("Alertmanager is not installed (Debian package prometheus-alertmanager)")
    port = free_port()
    process = Process(
        name="alertmanager",
        command=[
            binary,
            f"--config.file={config}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        log=workdir / "alertmanager.log",
        cwd=workdir,
    )
    process.start()
    try:
        process.wait_until(f"http://127.0.0.1:{port}/-/ready", timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def _post_alerts(url: str, alerts: list[dict[str, str]]) -> None:
    now = datetime.now(UTC)
    payload = [
        {"labels": labels, "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
        for labels in alerts
    ]
    request = urllib.request.Request(
        f"{url}/api/v2/alerts",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def _states(url: str) -> dict[str, str]:
    status, body = http_get(f"{url}/api/v2/alerts")
    assert status == 200
    return {
        f"{a['labels']['alertname']}/{a['labels'].get('service_name', '')}": a["status"]["state"]
        for a in json.loads(body)
    }


def test_inhibition(alertmanager: str) -> None:
    def alert(name: str, service: str, severity: str, family: str) -> dict[str, str]:
        return {"alertname": name, "service_name": service, "severity": severity, "alert_family": family}

    _post_alerts(
        alertmanager,
        [
            alert("SLOErrorBudgetBurnFast", "api", "page", "slo_error_budget"),
            alert("SLOErrorBudgetBurnSlow", "api", "ticket", "slo_error_budget"),  # muted by the page
            alert("SLOErrorBudgetBurnSlow", "web", "ticket", "slo_error_budget"),  # other service
            alert("HTTPLatencyP95High", "api", "ticket", "latency"),  # other family
            alert("OtelCollectorDown", "otel-collector", "page", "target_down"),
            alert("OtelSDKExportQueueFilling", "web", "ticket", "sdk_export"),  # muted: collector down
        ],
    )
    expected = {
        "SLOErrorBudgetBurnFast/api": "active",
        "SLOErrorBudgetBurnSlow/api": "suppressed",
        "SLOErrorBudgetBurnSlow/web": "active",
        "HTTPLatencyP95High/api": "active",
        "OtelCollectorDown/otel-collector": "active",
        "OtelSDKExportQueueFilling/web": "suppressed",
    }
    wait_for(lambda: _states(alertmanager) == expected, timeout=10, message="alert states")


def test_notification_data_fixture_matches_the_rules() -> None:
    """The template fixture uses annotation keys the rules really set."""
    data = json.loads(Path(ALERTMANAGER_DIR / "tests" / "notification.json").read_text())
    keys = set(data["alerts"][0]["annotations"])
    assert all(keys <= set(rule["annotations"]) for rule in alert_rules())


# --- Notification timing on a real Alertmanager, its webhook caught -------------------------------------


class _Webhook(http.server.BaseHTTPRequestHandler):
    received: list[tuple[float, dict[str, Any]]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((time.monotonic(), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def notified_alertmanager(tmp_path: Path) -> Iterator[tuple[str, list[tuple[float, dict[str, Any]]]]]:
    """Alertmanager as the native stack runs it (its configuration derived into its working directory,
    next to ``secrets/``), the sidecar's webhook retargeted to a server that keeps every notification
    (received at, body)."""
    received: list[tuple[float, dict[str, Any]]] = []
    handler = type("Webhook", (_Webhook,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    workdir = tmp_path / "alertmanager"
    config = alertmanager_config(StackPorts(sidecar=server.server_port), workdir, CONFIG)
    ensure_sidecar_token(workdir)
    try:
        with _running_alertmanager(config, workdir) as url:
            yield url, received
    finally:
        server.shutdown()


def test_a_new_anomaly_incident_is_notified_within_a_minute_not_at_the_groups_next_interval(
    notified_alertmanager: tuple[str, list[tuple[float, dict[str, Any]]]],
) -> None:
    # A false high opens incident 1 on a service; minutes later the series drops to zero, incident 2, a
    # new alert in the same group (alertname and service). Groups notify changes every group_interval
    # (5 minutes for the stack's other alerts); an outage must not wait that long behind a false alert.
    url, received = notified_alertmanager

    def anomaly(incident: str) -> dict[str, str]:
        return {
            "alertname": "OtelOpsAnomaly",
            "service_name": "checkout",
            "anomaly_job": "checkout-requests",
            "anomaly_incident": incident,
        }

    def notified(incident: str) -> float | None:
        return next(
            (
                at
                for at, body in received
                if any(a["labels"].get("anomaly_incident") == incident for a in body["alerts"])
            ),
            None,
        )

    _post_alerts(url, [anomaly("2026-12-06T10:00:00+00:00")])
    wait_for(lambda: notified("2026-12-06T10:00:00+00:00"), timeout=45, message="the first incident notified")
    posted = time.monotonic()
    _post_alerts(url, [anomaly("2026-12-06T10:00:00+00:00"), anomaly("2026-12-06T10:03:00+00:00")])
    wait_for(
        lambda: notified("2026-12-06T10:03:00+00:00"), timeout=75, message="the second incident notified"
    )
    delay = (notified("2026-12-06T10:03:00+00:00") or 0.0) - posted
    assert delay <= 65, f"notified {delay:.0f} s after it was raised"
