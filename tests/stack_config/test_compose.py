"""docker compose: the file is valid (docker-compose config), mounts files that exist, pins images,
and wires the components the way the shared configuration files expect."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from otel_ops.sidecar.jobs import load_jobs
from tests.stack_config.conftest import COMPOSE_FILE, REPO, datasources, load_yaml, run

ENV_EXAMPLE = REPO / "compose" / ".env.example"
# Services that run for the whole life of the stack and must say whether they are healthy. The
# collector image has no shell to run a probe in; `stack` only holds the network namespace.
HEALTHCHECKED = {"prometheus", "alertmanager", "loki", "tempo", "grafana", "sidecar", "demo"}
# Ports each component listens on (the native stack uses the same).
PORTS = {
    "collector": [4317, 4318, 13133],
    "grafana": [3000],
    "prometheus": [9090],
    "alertmanager": [9093],
    "loki": [3100],
    "tempo": [3200],
    "sidecar": [8000],
    "demo": [8080],
}


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("GRAFANA_", "OTEL_OPS_", "COMPOSE_"))}


@pytest.fixture(scope="module")
def compose(docker_compose: str) -> dict[str, Any]:
    """The configuration as docker-compose resolves it (demo profile included)."""
    result = run(
        [
            docker_compose,
            "--env-file",
            str(ENV_EXAMPLE),
            "-f",
            str(COMPOSE_FILE),
            "--profile",
            "demo",
            "config",
        ],
        env=_clean_env(),
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_grafana_admin_password_is_required(docker_compose: str, tmp_path: Path) -> None:
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    result = run(
        [docker_compose, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "--quiet"],
        env=_clean_env(),
    )
    assert result.returncode != 0
    assert "GRAFANA_ADMIN_PASSWORD" in result.stderr


def test_every_service_is_defined(compose: dict[str, Any]) -> None:
    assert set(PORTS) | {"stack", "collector-volume-init", "collector-wal-repair"} == set(compose["services"])
    assert compose["services"]["demo"]["profiles"] == ["demo"]


def test_every_bind_mount_exists(compose: dict[str, Any]) -> None:
    named = set(compose["volumes"])
    checked = 0
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source in named:
                continue
            assert Path(source).exists(), f"{name}: {source} does not exist"
            assert Path(source).resolve().is_relative_to(REPO), f"{name}: {source} outside the repository"
            checked += 1
    assert checked >= 12


def test_named_volumes_hold_the_state(compose: dict[str, Any]) -> None:
    data_dirs = {
        "collector": "/var/lib/otelcol",
        "prometheus": "/prometheus",
        "alertmanager": "/alertmanager",
        "loki": "/loki",
        "tempo": "/var/tempo",
        "grafana": "/var/lib/grafana",
        "sidecar": "/var/lib/otel-ops",
    }
    for service, target in data_dirs.items():
        mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"][service]["volumes"]}
        assert mounts.get(target) in compose["volumes"], f"{service}: {target} is not a named volume"


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    built = {s["image"] for s in compose["services"].values() if "build" in s}  # otel-ops' own image
    for name, service in compose["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image}"
        if image not in built:
            assert re.match(r"^v?\d+\.\d+(\.\d+)?$", tag), f"{name}: {image} is not a release tag"


def test_collector_image_matches_the_pinned_version(compose: dict[str, Any]) -> None:
    version = (REPO / "collector" / "VERSION").read_text().strip()
    assert compose["services"]["collector"]["image"] == f"otel/opentelemetry-collector-contrib:{version}"


# The native stack's own stores; compose runs Loki and Tempo instead.
NATIVE_ONLY_FRAGMENTS = {"jaeger.yaml", "victorialogs.yaml"}


def test_collector_loads_every_compose_fragment_base_first(compose: dict[str, Any]) -> None:
    service = compose["services"]["collector"]
    mounts = dict(v.split(":")[:2] for v in service["volumes"])
    fragments = [
        path
        for path in sorted((REPO / "collector" / "config").glob("*.yaml"))
        if path.name not in NATIVE_ONLY_FRAGMENTS
    ]
    configs = [arg.removeprefix("--config=") for arg in service["command"]]
    assert configs[0].endswith("/base.yaml")
    mounted = {target: Path(source).name for source, target in mounts.items()}
    assert sorted(mounted[c] for c in configs) == sorted(p.name for p in fragments)
    env = service["environment"]
    assert env["OTEL_OPS_COLLECTOR_HOST"] == "0.0.0.0"
    assert mounts[next(s for s, t in mounts.items() if t == env["OTEL_OPS_COLLECTOR_STORAGE_DIR"])]


def test_one_network_namespace_with_the_ports_published_once(compose: dict[str, Any]) -> None:
    services = compose["services"]
    published = {int(p.split(":")[-1].split("/")[0]) for p in services["stack"]["ports"]}
    for name, ports in PORTS.items():
        assert services[name]["network_mode"] == "service:stack", name
        assert "ports" not in services[name], name
        assert set(ports) <= published, name


def test_healthchecks(compose: dict[str, Any]) -> None:
    for name in HEALTHCHECKED:
        check = compose["services"][name].get("healthcheck")
        assert check and check["test"][0] == "CMD", name
        port = str(PORTS[name][0])
        assert any(port in part for part in check["test"]), f"{name}: probe not on its port {port}"


def test_prometheus_flags(compose: dict[str, Any]) -> None:
    command = compose["services"]["prometheus"]["command"]
    assert "--web.enable-remote-write-receiver" in command
    assert "--enable-feature=exemplar-storage" in command
    assert "--config.file=/etc/prometheus/prometheus.yml" in command
    volumes = compose["services"]["prometheus"]["volumes"]
    assert any(v.startswith(f"{REPO / 'prometheus' / 'rules'}:/etc/prometheus/rules") for v in volumes)


def test_alertmanager_reads_secrets_from_files(compose: dict[str, Any]) -> None:
    service = compose["services"]["alertmanager"]
    config = load_yaml(REPO / "alertmanager" / "alertmanager.yml")["global"]
    # Alertmanager opens relative *_file paths from its working directory; compose mounts secrets
    # at /run/secrets/<name>.
    for key in ("slack_api_url_file", "smtp_auth_password_file"):
        relative = config[key]
        assert not relative.startswith("/")
        secret = Path(relative).name
        assert relative == f"secrets/{secret}"
        assert secret in [s["source"] for s in service["secrets"]]
    assert service["working_dir"] == "/run"
    assert "secrets/" in (REPO / "compose" / ".gitignore").read_text()


def test_sidecar_and_alertmanager_webhook_share_one_token_file(compose: dict[str, Any]) -> None:
    """Alertmanager sends the token it reads from secrets/sidecar_token (relative to its configuration
    file's directory); the sidecar requires the token from the same compose secret."""
    receivers = load_yaml(REPO / "alertmanager" / "alertmanager.yml")["receivers"]
    [webhook] = next(r for r in receivers if r["name"] == "sidecar")["webhook_configs"]
    credentials = Path(webhook["http_config"]["authorization"]["credentials_file"])
    alertmanager = compose["services"]["alertmanager"]
    [config_file] = [a.split("=", 1)[1] for a in alertmanager["command"] if a.startswith("--config.file=")]
    assert Path(config_file).parent / credentials == Path("/run/secrets/sidecar_token")
    # and the global *_file secrets, relative to the working directory, find the same directory
    assert Path(config_file).parent == Path(alertmanager["working_dir"])
    mounts = {v.split(":")[1]: Path(v.split(":")[0]) for v in alertmanager["volumes"] if ":" in v}
    assert mounts[config_file] == REPO / "alertmanager" / "alertmanager.yml"
    assert mounts[str(Path(config_file).parent / "templates")] == REPO / "alertmanager" / "templates"
    assert "sidecar_token" in [s["source"] for s in alertmanager["secrets"]]
    sidecar = compose["services"]["sidecar"]
    assert "sidecar_token" in [s["source"] for s in sidecar["secrets"]]
    assert sidecar["environment"]["OTEL_OPS_API_TOKEN_FILE"] == "/run/secrets/sidecar_token"
    assert "OTEL_OPS_API_TOKEN" not in sidecar["environment"]


def test_the_sidecar_runs_the_anomaly_jobs_the_native_stack_runs(compose: dict[str, Any]) -> None:
    sidecar = compose["services"]["sidecar"]
    jobs_file = sidecar["environment"]["OTEL_OPS_ANOMALY_JOBS_FILE"]
    mounts = {v.split(":")[1]: Path(v.split(":")[0]) for v in sidecar["volumes"] if ":" in v}
    assert mounts[jobs_file] == REPO / "prometheus" / "anomaly-jobs.yml"
    assert load_jobs(mounts[jobs_file])  # a valid jobs file


def test_loki_and_tempo_expand_the_environment(compose: dict[str, Any]) -> None:
    for name in ("loki", "tempo"):
        service = compose["services"][name]
        assert "-config.expand-env=true" in service["command"]
        assert service["environment"][f"{name.upper()}_LISTEN_ADDRESS"] == "0.0.0.0"


def test_grafana_security_and_dashboards(compose: dict[str, Any]) -> None:
    service = compose["services"]["grafana"]
    env = service["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == "change-me"  # from .env.example
    assert not any(k.startswith("GF_AUTH_ANONYMOUS") for k in env)
    mounts = dict(v.split(":")[:2] for v in service["volumes"])
    assert mounts[str(REPO / "grafana" / "dashboards")] == env["OTEL_OPS_GRAFANA_DASHBOARDS_DIR"]
    assert mounts[str(REPO / "grafana" / "provisioning")] == env["GF_PATHS_PROVISIONING"]


def test_sidecar_and_demo_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["sidecar"]["command"] == ["otel-ops", "sidecar", "--host", "0.0.0.0", "--port", "8000"]
    assert services["demo"]["command"][:2] == ["otel-ops", "demo-service"]
    assert services["sidecar"]["build"]["dockerfile"].endswith("compose/Dockerfile")
    assert (REPO / "compose" / "Dockerfile").is_file()


def test_addresses_in_the_shared_files_agree_with_the_ports() -> None:
    """Prometheus, Grafana and Alertmanager find the others at localhost:<port>."""
    prometheus = load_yaml(REPO / "prometheus" / "prometheus.yml")
    targets = {
        t for job in prometheus["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]
    }
    assert {"localhost:8888", "localhost:9090", "localhost:9093", "localhost:8000"} <= targets
    urls = {ds["type"]: ds["url"] for ds in datasources()}
    assert urls["prometheus"] == "http://localhost:9090"
    assert urls["tempo"] == "http://localhost:3200"
    assert urls["loki"] == "http://localhost:3100"
    base = load_yaml(REPO / "collector" / "config" / "base.yaml")
    metrics_reader = base["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]
    assert metrics_reader["port"].endswith(":-8888}")
    remote_write = load_yaml(REPO / "collector" / "config" / "prometheus.yaml")["exporters"]
    assert "http://localhost:9090/api/v1/write" in str(remote_write)


def test_the_collector_starts_only_after_its_wal_is_repaired(compose: dict[str, Any]) -> None:
    repair = compose["services"]["collector-wal-repair"]
    assert repair["command"][:3] == ["otel-ops", "collector", "repair-wal"]
    storage = compose["services"]["collector"]["environment"]["OTEL_OPS_COLLECTOR_STORAGE_DIR"]
    assert repair["command"][-1] == storage
    assert any(f":{storage}" in str(v) for v in repair["volumes"])
    depends = compose["services"]["collector"]["depends_on"]
    assert depends["collector-wal-repair"]["condition"] == "service_completed_successfully"
