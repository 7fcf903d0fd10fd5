"""``otel-ops up|down|status``: a background stack on free ports, its pid files, and its clear errors."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from otel_ops.stack import components, pidfiles
from otel_ops.stack.pidfiles import PidRecord
from otel_ops.stack.ports import StackPorts
from otel_ops.stack.processes import StackError, port_in_use
from otel_ops.stack.prometheus_config import prometheus_config, shared_config
from tests.stack.conftest import (
    PORT_OPTIONS,
    Stack,
    cli,
    free_ports,
    get_json,
    requires_stack,
    up_args,
    wait_for,
)
from tests.support.tables import table_row


@pytest.mark.slow
@pytest.mark.timeout(200)
@requires_stack
def test_up_status_down(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory("--no-sidecar")
    ports = stack.ports

    # The processes outlived `up`; status shows each one ready with its pid, port and log.
    result = cli(stack.state, "status")
    assert result.returncode == 0, result.stdout + result.stderr
    for name, port in (
        ("alertmanager", ports["--alertmanager-port"]),
        ("prometheus", ports["--prometheus-port"]),
        ("collector", ports["--port"]),
        ("jaeger", ports["--jaeger-port"]),
        ("victorialogs", ports["--victorialogs-port"]),
    ):
        _, state, pid, shown_port, ready, log = table_row(result.stdout, name)
        assert (state, shown_port, ready) == ("running", str(port), "yes"), result.stdout
        assert (stack.state / "run" / f"{name}.pid").read_text().strip() == pid
        assert log == str(stack.state / "logs" / f"{name}.log") and Path(log).stat().st_size > 0
    assert table_row(result.stdout, "sidecar")[1] == "stopped"

    # Prometheus runs the shared rules and sends alerts to this Alertmanager; it scrapes this Collector.
    rules = get_json(f"{stack.prometheus}/api/v1/rules")["data"]["groups"]
    alert_names = {rule["name"] for group in rules for rule in group["rules"] if rule["type"] == "alerting"}
    assert {"SLOErrorBudgetBurnFast", "OtelCollectorDown"} <= alert_names
    managers = wait_for(
        "Prometheus to discover its Alertmanager",
        lambda: get_json(f"{stack.prometheus}/api/v1/alertmanagers")["data"]["activeAlertmanagers"],
        timeout=20,
    )
    assert managers == [{"url": f"{stack.alertmanager}/api/v2/alerts"}]
    targets = get_json(f"{stack.prometheus}/api/v1/targets")["data"]["activeTargets"]
    scraped = {t["labels"]["job"]: t["scrapeUrl"] for t in targets}
    assert scraped["otel-collector"] == f"http://127.0.0.1:{ports['--collector-metrics-port']}/metrics"
    # Alertmanager runs the shared configuration (its receivers).
    am_config = get_json(f"{stack.alertmanager}/api/v2/status")["config"]["original"]
    assert "slack-page" in am_config and "email-ticket" in am_config

    # A second `up` leaves the running components alone.
    again = cli(stack.state, "up", *up_args(ports), "--no-sidecar")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "prometheus: already running" in again.stderr

    down = cli(stack.state, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert re.search(r"collector: stopped in [\d.]+s", down.stdout), down.stdout
    assert not any(port_in_use(port) for port in ports.values())
    assert not list((stack.state / "run").iterdir())
    after = cli(stack.state, "status")
    assert after.returncode == 3, after.stdout
    assert table_row(after.stdout, "prometheus")[1] == "stopped"


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_pid_files_are_reported_and_removed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    PidRecord("prometheus", _dead_pid(), 1, 9090, None, str(state / "logs" / "p.log"), ["prometheus"]).write(
        state
    )
    (state / "run" / "collector.pid").write_text("12345\n")  # a pid file without its record

    status = cli(state, "status")
    assert status.returncode == 1, status.stdout
    assert table_row(status.stdout, "prometheus")[1] == "stale"
    assert table_row(status.stdout, "collector")[1] == "stale"

    down = cli(state, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "prometheus: not running (removed stale pid file)" in down.stdout
    assert not list((state / "run").iterdir())


def test_a_reused_pid_is_not_taken_for_the_component(tmp_path: Path) -> None:
    # Our own pid with another start time: a different process now holds that pid.
    me = pidfiles.process_start_time(os.getpid())
    assert me is not None and me > 0
    record = PidRecord("collector", os.getpid(), me + 1, 4318, None, "", [])
    assert not record.alive
    assert not record.stop(timeout=1)  # and it is never signalled
    assert PidRecord("collector", os.getpid(), me, 4318, None, "", []).alive


def test_up_fails_clearly_when_a_port_is_taken(tmp_path: Path) -> None:
    ports = dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS)), strict=True))
    state = tmp_path / "state"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports["--prometheus-port"]))
        taken.listen()
        result = cli(state, "up", *up_args(ports), "--no-sidecar", timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"port {ports['--prometheus-port']} (Prometheus) already in use" in result.stderr
    assert not (state / "run").exists() or not list((state / "run").iterdir())


def test_up_refuses_one_port_for_two_components_before_starting_anything(tmp_path: Path) -> None:
    ports = dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS)), strict=True))
    ports["--prometheus-port"] = ports["--port"]
    state = tmp_path / "state"
    result = cli(state, "up", *up_args(ports), "--no-sidecar", timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    shared = f"port {ports['--port']} (Prometheus and collector OTLP/HTTP) given to more than one component"
    assert shared in result.stderr
    assert "ready" not in result.stderr  # nothing was started
    assert not (state / "run").exists() or not list((state / "run").iterdir())


@pytest.mark.parametrize(
    ("option", "value", "units"),
    [
        ("--evaluation-interval", "bogus", "ms, s, m, h, d, w"),
        ("--evaluation-interval", "0s", "ms, s, m, h, d, w"),
        ("--metrics-flush-interval", "1d", "ms, s, m, h,"),
    ],
)
def test_up_refuses_a_bad_duration_before_starting_anything(
    tmp_path: Path, option: str, value: str, units: str
) -> None:
    result = cli(tmp_path / "state", "up", option, value, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"invalid {option} '{value}': give a duration such as 500ms" in result.stderr
    assert f"(units {units}" in result.stderr
    assert not (tmp_path / "state" / "run").exists()


def test_up_takes_otlp_http_port_as_demo_does(tmp_path: Path) -> None:
    ports = dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS)), strict=True))
    ports["--prometheus-port"] = ports["--port"]
    args = ["--otlp-http-port" if arg == "--port" else arg for arg in up_args(ports)]
    result = cli(tmp_path / "state", "up", *args, "--no-sidecar", timeout=60)
    # Accepted, and it is the Collector's OTLP/HTTP port: refused only for sharing it with Prometheus.
    assert f"port {ports['--port']} (Prometheus and collector OTLP/HTTP)" in result.stderr, result.stderr


@requires_stack
def test_a_component_dying_at_start_shows_its_log_and_stops_the_others(tmp_path: Path) -> None:
    # A `prometheus` that fails as a real one does when its port is taken.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "prometheus"
    fake.write_text("#!/bin/sh\necho 'err=\"listen tcp: bind: address already in use\"' >&2\nexit 1\n")
    fake.chmod(0o755)
    ports = dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS)), strict=True))
    state = tmp_path / "state"
    env = {"PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    result = cli(state, "up", *up_args(ports), "--no-sidecar", env=env, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "prometheus exited with code 1" in result.stderr
    assert "address already in use" in result.stderr
    assert str(state / "logs" / "prometheus.log") in result.stderr
    # Alertmanager had started first: it was stopped again and its pid file removed.
    assert "alertmanager ready" in result.stderr
    assert not list((state / "run").iterdir())
    assert not port_in_use(ports["--alertmanager-port"])


def test_a_missing_program_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        components._BINARIES, "alertmanager", (("no-such-alertmanager",), "prometheus-alertmanager")
    )
    with pytest.raises(StackError, match=r"apt-get install prometheus-alertmanager"):
        components.find_binary("alertmanager")


def test_standard_ports_use_the_shared_prometheus_config(tmp_path: Path) -> None:
    assert prometheus_config(StackPorts(), tmp_path) == shared_config()
    assert not list(tmp_path.iterdir())


def test_other_ports_derive_the_prometheus_config_from_the_shared_file(tmp_path: Path) -> None:
    ports = StackPorts(prometheus=19090, alertmanager=19093, collector_metrics=18888, sidecar=18000)
    path = prometheus_config(ports, tmp_path, evaluation_interval="5s")
    derived = yaml.safe_load(path.read_text())
    shared = yaml.safe_load(shared_config().read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in derived["scrape_configs"]}
    assert targets == {
        "prometheus": ["127.0.0.1:19090"],
        "alertmanager": ["127.0.0.1:19093"],
        "otel-collector": ["127.0.0.1:18888"],
        "otel-ops-sidecar": ["127.0.0.1:18000"],
    }
    assert derived["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:19093"]
    assert derived["global"] == {**shared["global"], "evaluation_interval": "5s"}
    assert derived["rule_files"] == [str(shared_config().parent / "rules" / "*.rules.yml")]
    # Everything else is the shared file's.
    for job, shared_job in zip(derived["scrape_configs"], shared["scrape_configs"], strict=True):
        assert {k: v for k, v in job.items() if k != "static_configs"} == {
            k: v for k, v in shared_job.items() if k != "static_configs"
        }
    promtool = shutil.which("promtool")
    if promtool:
        check = subprocess.run([promtool, "check", "config", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
