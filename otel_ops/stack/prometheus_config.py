"""Which Prometheus configuration the local stack runs: the shared ``prometheus/prometheus.yml``.

The shared file is the one of the stack files (:mod:`otel_ops.stack.files`): shipped with otel-ops, or the
user's copy in ``--config-dir``.

On the standard ports the shared file is used as it is. Prometheus cannot take scrape targets or the
Alertmanager address from flags or the environment, so on other ports (or with another evaluation
interval) a configuration is *derived* from the shared file at start: the same jobs, rules and alerting,
with each ``localhost:<standard port>`` address replaced by the configured one and the rule paths made
absolute. Nothing else changes, so the shared file stays the one source of truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from otel_ops.stack import files
from otel_ops.stack.derived_config import write_derived
from otel_ops.stack.ports import StackPorts


def shared_config() -> Path:
    """``prometheus/prometheus.yml`` of the stack files in use."""
    return files.path("prometheus", "prometheus.yml")


def _retarget_static_configs(configs: list[dict[str, Any]], ports: StackPorts) -> None:
    for static in configs:
        static["targets"] = [ports.retarget(str(t)) for t in static.get("targets", [])]


def derive(
    shared: dict[str, Any], base_dir: Path, ports: StackPorts, evaluation_interval: str | None
) -> dict[str, Any]:
    """The shared configuration (parsed) for ``ports``; rule paths resolved against ``base_dir``."""
    config = dict(shared)
    if evaluation_interval:
        config["global"] = {**config.get("global", {}), "evaluation_interval": evaluation_interval}
    config["rule_files"] = [str((base_dir / pattern).resolve()) for pattern in config.get("rule_files", [])]
    for job in config.get("scrape_configs", []):
        _retarget_static_configs(job.get("static_configs", []), ports)
    for manager in config.get("alerting", {}).get("alertmanagers", []):
        _retarget_static_configs(manager.get("static_configs", []), ports)
    return config


def prometheus_config(
    ports: StackPorts,
    directory: Path,
    evaluation_interval: str | None = None,
    shared: Path | None = None,
) -> Path:
    """The shared file on the standard ports; else a configuration derived from it, in ``directory``."""
    shared = shared or shared_config()
    if ports.shared_files_apply and not evaluation_interval:
        return shared
    derived = derive(yaml.safe_load(shared.read_text()), shared.parent, ports, evaluation_interval)
    return write_derived(shared, derived, directory)
