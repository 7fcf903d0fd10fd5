"""The operations layer installed from the wheel (``pip install 'otel-ops[ops]'``), run from an empty
directory: the stack, the demo, ``init`` and ``--config-dir`` work on the files shipped in the wheel, with
the Collector from the build cache and Debian's Prometheus and Alertmanager."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from otel_ops.stack import collector_build
from otel_ops.stack.processes import port_in_use
from tests.packaging.conftest import REPO, require
from tests.stack.conftest import ALERTMANAGER, PORT_OPTIONS, PROMETHEUS, free_ports, get_json, up_args
from tests.support.environments import Environment
from tests.support.tables import table_row

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CUSTOM_RULES = """\
groups:
  - name: customer-owned
    rules:
      - alert: CustomerOwnedRule
        expr: vector(1) > 0
"""


def _cached_collector() -> Path | None:
    try:
        return collector_build.binary_path()
    except collector_build.CollectorBuildError:
        return None


@pytest.fixture
def stack_programs() -> None:
    require(PROMETHEUS.exists(), "needs Debian's prometheus package")
    require(ALERTMANAGER.exists(), "needs Debian's prometheus-alertmanager package")
    require(_cached_collector() is not None, "Collector not built: run `otel-ops collector build`")


class Stack:
    """``otel-ops up`` of an environment in a directory, on free ports; ``otel-ops down`` at the end."""

    def __init__(self, environment: Environment, directory: Path) -> None:
        self.environment, self.directory = environment, directory
        self.ports = dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS)), strict=True))

    def otel_ops(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 240
    ) -> subprocess.CompletedProcess[str]:
        return self.environment.run("otel-ops", *args, cwd=self.directory, env=env, timeout=timeout)

    def up(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.otel_ops("up", *up_args(self.ports), *args, env=env)

    @property
    def prometheus(self) -> str:
        return f"http://127.0.0.1:{self.ports['--prometheus-port']}"

    def rule_groups(self) -> dict[str, str]:
        """Prometheus' loaded rule groups: name -> file."""
        groups = get_json(f"{self.prometheus}/api/v1/rules")["data"]["groups"]
        return {group["name"]: group["file"] for group in groups}

    def down(self) -> None:
        result = self.otel_ops("down", "--timeout", "10", timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        assert not any(port_in_use(port) for port in self.ports.values())


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    started: list[Stack] = []
    yield started
    for stack in started:
        stack.down()


def _shipped_rule_groups() -> set[str]:
    names = set()
    for rules in (REPO / "prometheus" / "rules").glob("*.rules.yml"):
        names |= {group["name"] for group in yaml.safe_load(rules.read_text())["groups"]}
    return names


def test_collector_path_finds_the_cached_build(
    ops: Environment, empty_dir: Path, stack_programs: None
) -> None:
    result = ops.run("otel-ops", "collector", "path", cwd=empty_dir)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == _cached_collector()


def test_up_status_down_from_an_empty_directory(
    ops: Environment, empty_dir: Path, stack_programs: None, stacks: list[Stack]
) -> None:
    stack = Stack(ops, empty_dir)
    stacks.append(stack)
    up = stack.up()
    assert up.returncode == 0, up.stdout + up.stderr

    status = stack.otel_ops("status")
    assert status.returncode == 0, status.stdout + status.stderr
    for component in ("alertmanager", "prometheus", "collector", "sidecar"):
        _, state, _, _, ready, _ = table_row(status.stdout, component)
        assert (state, ready) == ("running", "yes"), status.stdout
    assert (empty_dir / ".otel-ops" / "run").is_dir()

    # Prometheus evaluates the alert rules shipped in the wheel.
    groups = stack.rule_groups()
    assert set(groups) == _shipped_rule_groups()
    assert all(Path(file).is_relative_to(ops.root) for file in groups.values()), groups

    # A jobs file is checked against the stack's Prometheus: a query of two series, one allowed.
    two = " or ".join(f'label_replace(vector(1), "shard", "{n}", "", "")' for n in (0, 1))
    jobs = {"jobs": [{"name": "two", "query": two, "max_series": 1}]}
    (empty_dir / "jobs.json").write_text(json.dumps(jobs))
    check = stack.otel_ops(
        "anomaly", "check", "jobs.json", "--prometheus", stack.prometheus, env={"COLUMNS": "400"}
    )
    assert check.returncode == 1, check.stdout + check.stderr
    assert "more than max_series 1" in check.stdout and "1 of 1 job cannot run" in check.stderr

    stacks.remove(stack)
    stack.down()
    after = stack.otel_ops("status")
    assert after.returncode == 3, after.stdout


def test_demo_from_an_empty_directory(ops: Environment, empty_dir: Path, stack_programs: None) -> None:
    grpc, http, health, metrics, prometheus, service = free_ports(6)
    result = ops.run(
        "otel-ops",
        "demo",
        "--duration",
        "5",
        *("--otlp-grpc-port", str(grpc), "--otlp-http-port", str(http), "--health-port", str(health)),
        *("--collector-metrics-port", str(metrics), "--prometheus-port", str(prometheus)),
        *("--service-port", str(service)),
        cwd=empty_dir,
        timeout=240,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "http_server_request_duration_seconds_count" in output
    assert "traces_span_metrics_calls_total" in output
    assert not any(port_in_use(port) for port in (grpc, http, health, metrics, prometheus, service))


def test_init_writes_editable_copies_and_the_stack_runs_on_them(
    ops: Environment, empty_dir: Path, stack_programs: None, stacks: list[Stack]
) -> None:
    init = ops.run("otel-ops", "init", "conf", cwd=empty_dir)
    assert init.returncode == 0, init.stderr
    conf = empty_dir / "conf"
    prometheus_yml = conf / "prometheus" / "prometheus.yml"
    assert prometheus_yml.is_file() and not prometheus_yml.is_symlink()
    assert prometheus_yml.read_text() == (REPO / "prometheus" / "prometheus.yml").read_text()
    assert os.access(prometheus_yml, os.W_OK)
    assert "Wrote" in init.stdout and "prometheus/" in init.stdout

    # The user's copies are theirs: a second init refuses to overwrite them; --force does.
    edited = conf / "collector" / "config" / "base.yaml"
    edited.write_text(edited.read_text() + "# mine\n")
    again = ops.run("otel-ops", "init", "conf", cwd=empty_dir)
    assert again.returncode == 1 and "--force" in again.stderr and "Traceback" not in again.stderr
    assert edited.read_text().endswith("# mine\n")
    forced = ops.run("otel-ops", "init", "conf", "--force", cwd=empty_dir)
    assert forced.returncode == 0 and not edited.read_text().endswith("# mine\n")

    # The environment variable picks the copies for every stack command.
    fragments = ops.run(
        "otel-ops", "collector", "config", cwd=empty_dir, env={"OTEL_OPS_CONFIG_DIR": str(conf)}
    )
    assert fragments.returncode == 0, fragments.stderr
    assert f"--config={conf.resolve()}/collector/config/base.yaml" in fragments.stdout.split()

    # A rule added to the copies is evaluated by the stack started on them.
    (conf / "prometheus" / "rules" / "custom.rules.yml").write_text(CUSTOM_RULES)
    stack = Stack(ops, empty_dir)
    stacks.append(stack)
    up = stack.up("--config-dir", "conf", "--no-alertmanager", "--no-sidecar")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "customer-owned" in stack.rule_groups()
    stacks.remove(stack)
    stack.down()

    # A needed file missing from the copies: one clear error, nothing left running.
    prometheus_yml.unlink()
    broken = Stack(ops, empty_dir).up("--config-dir", "conf", "--no-alertmanager", "--no-sidecar")
    assert broken.returncode == 1
    assert "prometheus/prometheus.yml is missing from the configuration directory" in broken.stderr
    assert "Traceback" not in broken.stderr
    assert stack.otel_ops("status").returncode == 3
