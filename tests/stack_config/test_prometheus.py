"""Prometheus configuration and rules: promtool checks, rule unit tests, conventions of every alert."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.stack_config.conftest import (
    PROMETHEUS_DIR,
    alert_rules,
    dashboards,
    load_yaml,
    rule_files,
    run,
)


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


slo = _load_module(PROMETHEUS_DIR / "generate_slo_rules.py")


def test_promtool_check_config_loads_config_and_rules(promtool: str) -> None:
    result = run([promtool, "check", "config", str(PROMETHEUS_DIR / "prometheus.yml")])
    assert result.returncode == 0, result.stdout + result.stderr
    # The config's rule_files glob must pick up every rule file.
    for path in rule_files():
        assert path.name in result.stdout


def test_promtool_check_rules(promtool: str) -> None:
    result = run([promtool, "check", "rules", *map(str, rule_files())])
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests(promtool: str) -> None:
    tests = sorted((PROMETHEUS_DIR / "tests").glob("*.test.yml"))
    assert tests
    result = run([promtool, "test", "rules", *map(str, tests)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in (PROMETHEUS_DIR / "tests").glob("*.test.yml"):
        for case in load_yaml(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fires == set(), "alerts without a test where they fire"
    assert names - quiet == set(), "alerts without a test where they stay quiet"
    assert (fires | quiet) - names == set(), "tests for alerts that do not exist"


def test_prometheus_yml_scrapes_the_stack_and_alerts_to_alertmanager() -> None:
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    targets = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets["otel-collector"] == ["localhost:8888"]
    assert targets["otel-ops-sidecar"] == ["localhost:8000"]
    assert {"prometheus", "alertmanager"} <= set(targets)
    am = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert am == ["localhost:9093"]
    # Rules in OtelCollectorDown/TargetDown rely on this job name.
    assert any('job="otel-collector"' in r["expr"] for r in alert_rules())


# --- Conventions of every alert -------------------------------------------------------------------

ALERTS = alert_rules()


def _anchors(markdown: str) -> set[str]:
    headings = re.findall(r"^#+\s+(.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("rule", ALERTS, ids=[r["alert"] for r in ALERTS])
def test_alert_labels_and_annotations(rule: dict) -> None:
    labels, annotations = rule.get("labels", {}), rule.get("annotations", {})
    assert labels.get("severity") in ("page", "ticket")
    # Inhibition compares alert_family and service_name: an alert without them would match every other
    # alert without them (service_name comes from the series: see the test below).
    assert labels.get("alert_family")
    for key in ("summary", "description", "runbook", "dashboard"):
        assert annotations.get(key), f"missing annotation {key}"
    path, _, anchor = annotations["runbook"].partition("#")
    runbook = PROMETHEUS_DIR.parent / path
    assert runbook.is_file()
    assert anchor in _anchors(runbook.read_text()), f"no section #{anchor} in {path}"
    uid = re.match(r"^/d/([\w-]+)", annotations["dashboard"])
    assert uid, annotations["dashboard"]
    assert uid.group(1) in {d["uid"] for d in dashboards().values()}, f"no dashboard with uid {uid.group(1)}"


def test_every_alert_fired_in_unit_tests_carries_service_name() -> None:
    """Grouping and inhibition key on service_name; the unit tests show what the alerts really carry."""
    checked = 0
    for path in (PROMETHEUS_DIR / "tests").glob("*.test.yml"):
        for case in load_yaml(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                for alert in check.get("exp_alerts") or []:
                    assert alert["exp_labels"].get("service_name"), f"{path.name}: {alert['exp_labels']}"
                    checked += 1
    assert checked >= len(ALERTS)


def test_alert_names_are_unique() -> None:
    names = [rule["alert"] for rule in ALERTS]
    assert len(names) == len(set(names))


# --- SLO rule generator -----------------------------------------------------------------------------


def test_slo_rules_file_is_up_to_date() -> None:
    assert slo.main(["--check"]) == 0, "rules/slo.rules.yml differs from what slo.yaml generates"


def test_slo_burn_rate_alerts_follow_the_workbook() -> None:
    config = slo.load_config(slo.DEFAULT_CONFIG)
    pairs = {(a.severity, a.long, a.short, a.factor) for a in config.alerts}
    assert pairs == {("page", "1h", "5m", 14.4), ("page", "6h", "30m", 6.0), ("ticket", "3d", "6h", 1.0)}


def test_slo_per_service_objective(tmp_path: Path, promtool: str) -> None:
    config = tmp_path / "slo.yaml"
    config.write_text(
        (PROMETHEUS_DIR / "slo.yaml").read_text().replace("services: {}", "services: {checkout: 0.9995}")
    )
    out = tmp_path / "slo.rules.yml"
    assert slo.main(["--config", str(config), "--output", str(out)]) == 0
    rules = load_yaml(out)["groups"][0]["rules"]
    burn = {
        (r["expr"], r["labels"]["slo_objective"])
        for r in rules
        if r.get("record") == "service:slo_burn_rate:rate1h"
    }
    assert burn == {
        ('service:http_server_error_ratio:rate1h{service_name!~"checkout"} / 0.001', "0.999"),
        ('service:http_server_error_ratio:rate1h{service_name="checkout"} / 0.0005', "0.9995"),
    }
    result = run([promtool, "check", "rules", str(out)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ("default_objective: 0.999", "default_objective: 1.5"),
        ("short: 5m", "short: 2h"),
        ("severity: page, long: 1h", "severity: urgent, long: 1h"),
    ],
)
def test_slo_generator_rejects_invalid_config(tmp_path: Path, replace: str, message: str) -> None:
    config = tmp_path / "slo.yaml"
    config.write_text((PROMETHEUS_DIR / "slo.yaml").read_text().replace(replace, message, 1))
    with pytest.raises(slo.SLOConfigError):
        slo.load_config(config)
    assert slo.main(["--config", str(config), "--output", str(tmp_path / "out.yml")]) == 2
    assert not (tmp_path / "out.yml").exists()
