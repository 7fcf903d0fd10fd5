"""Loki and Tempo cannot run here: check their configuration statically, after expanding the
environment the way `-config.expand-env=true` does (${VAR:-default})."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.stack_config.conftest import REPO, load_yaml

LOKI = REPO / "loki" / "loki.yaml"
TEMPO = REPO / "tempo" / "tempo.yaml"
_ENV = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")
_COLLECTOR_ENV = re.compile(r"\$\{env:\w+:-([^}]*)\}")


def expand(path: Path, env: dict[str, str] | None = None) -> Any:
    """The file with ${VAR} / ${VAR:-default} expanded; an unset variable without default fails."""
    env = env or {}

    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        assert name in env or default is not None, f"{path.name}: ${{{name}}} has no default"
        return env.get(name, default or "")

    return yaml.safe_load(_ENV.sub(value, path.read_text()))


def collector_default(value: str) -> str:
    """A collector setting with its ${env:NAME:-default} references replaced by their defaults."""
    return _COLLECTOR_ENV.sub(lambda m: m.group(1), value)


def test_loki_single_binary_tsdb_v13_filesystem() -> None:
    config = expand(LOKI)
    assert config["auth_enabled"] is False
    assert config["common"]["replication_factor"] == 1
    assert config["common"]["ring"]["kvstore"]["store"] == "inmemory"
    schemas = config["schema_config"]["configs"]
    assert schemas[-1]["store"] == "tsdb" and schemas[-1]["schema"] == "v13"
    assert schemas[-1]["object_store"] == "filesystem"
    assert "filesystem" in config["common"]["storage"]
    assert config["compactor"]["delete_request_store"] == "filesystem"


def test_loki_accepts_otlp_with_structured_metadata() -> None:
    config = expand(LOKI)
    # OTLP ingestion (/otlp/v1/logs) stores trace_id and span_id as structured metadata.
    assert config["limits_config"]["allow_structured_metadata"] is True
    assert config["server"]["http_listen_port"] == 3100


def test_loki_ports_and_paths_follow_the_environment() -> None:
    native = expand(LOKI)
    assert native["server"]["http_listen_address"] == "127.0.0.1"
    assert native["common"]["path_prefix"] == ".otel-ops/loki"
    compose = expand(LOKI, {"LOKI_LISTEN_ADDRESS": "0.0.0.0", "LOKI_DATA_DIR": "/loki"})
    assert compose["server"]["http_listen_address"] == "0.0.0.0"
    assert compose["common"]["storage"]["filesystem"]["chunks_directory"] == "/loki/chunks"
    assert compose["compactor"]["working_directory"] == "/loki/compactor"


def test_tempo_local_storage_and_otlp_receivers() -> None:
    config = expand(TEMPO)
    assert config["storage"]["trace"]["backend"] == "local"
    assert config["storage"]["trace"]["local"]["path"].startswith(".otel-ops/tempo")
    protocols = config["distributor"]["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "127.0.0.1:14317"
    assert protocols["http"]["endpoint"] == "127.0.0.1:14318"
    assert config["server"]["http_listen_port"] == 3200


def test_tempo_has_no_metrics_generator() -> None:
    """The collector's span_metrics and service_graph connectors produce these metrics."""
    config = expand(TEMPO)
    assert "metrics_generator" not in config
    assert "metrics_generator" not in yaml.safe_dump(config.get("overrides", {}))
    base = load_yaml(REPO / "collector" / "config" / "base.yaml")
    assert {"span_metrics", "service_graph"} <= set(base["connectors"])


def test_tempo_receives_where_the_collector_sends() -> None:
    tempo = expand(TEMPO)["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
    exporter = load_yaml(REPO / "collector" / "config" / "tempo.yaml")["exporters"]["otlp_grpc/tempo"]
    assert collector_default(exporter["endpoint"]).rsplit(":", 1)[1] == tempo.rsplit(":", 1)[1]


def test_loki_receives_where_the_collector_sends() -> None:
    exporter = load_yaml(REPO / "collector" / "config" / "loki.yaml")["exporters"]["otlp_http/loki"]
    port = expand(LOKI)["server"]["http_listen_port"]
    assert collector_default(exporter["endpoint"]) == f"http://localhost:{port}/otlp"


def test_grpc_ports_do_not_collide() -> None:
    """Every component shares one network namespace (compose) or host (native)."""
    loki, tempo = expand(LOKI)["server"], expand(TEMPO)["server"]
    ports = [
        loki["http_listen_port"],
        loki["grpc_listen_port"],
        tempo["http_listen_port"],
        tempo["grpc_listen_port"],
    ]
    assert len(set(ports)) == len(ports)
