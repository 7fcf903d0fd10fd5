"""Which stores ``explain`` reads: flags, then environment variables, then the local stack, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_ops.explain.errors import InvalidArgument
from otel_ops.explain.settings import StoreUrls, resolve, stack_urls
from otel_ops.stack.pidfiles import PidRecord

NONE: dict[str, str | None] = {}


def record(state: Path, name: str, port: int, host: str = "127.0.0.1") -> None:
    PidRecord(name, 4242, 1, port, f"http://{host}:{port + 1}/ready", "log", ["x"]).write(state)


def test_defaults_are_the_native_stacks_standard_ports(tmp_path: Path) -> None:
    assert resolve(NONE, env={}, state=tmp_path) == StoreUrls.local()


def test_a_running_stack_in_the_state_dir_gives_its_ports(tmp_path: Path) -> None:
    record(tmp_path, "prometheus", 19090)
    record(tmp_path, "jaeger", 26686, host="0.0.0.0")
    record(tmp_path, "victorialogs", 19428)
    assert stack_urls(tmp_path) == {
        "prometheus": "http://127.0.0.1:19090",
        "jaeger": "http://127.0.0.1:26686",
        "victorialogs": "http://127.0.0.1:19428",
    }
    urls = resolve(NONE, env={"OTEL_OPS_STATE_DIR": str(tmp_path)})
    assert urls.prometheus == "http://127.0.0.1:19090" and urls.alertmanager == "http://127.0.0.1:9093"
    assert urls.traces == ("jaeger", "http://127.0.0.1:26686")
    assert urls.logs == ("victorialogs", "http://127.0.0.1:19428")


def test_environment_beats_the_stack_and_flags_beat_the_environment(tmp_path: Path) -> None:
    record(tmp_path, "prometheus", 19090)
    env = {"OTEL_OPS_PROMETHEUS_URL": "http://metrics:9090/", "OTEL_OPS_GRAFANA_URL": "http://grafana:3000"}
    assert resolve(NONE, env=env, state=tmp_path).prometheus == "http://metrics:9090"
    flagged = resolve({"prometheus": "http://other:9091"}, env=env, state=tmp_path)
    assert flagged.prometheus == "http://other:9091" and flagged.grafana == "http://grafana:3000"


def test_tempo_and_loki_are_read_when_given_and_jaeger_victorialogs_are_not(tmp_path: Path) -> None:
    env = {"OTEL_OPS_TEMPO_URL": "http://tempo:3200", "OTEL_OPS_LOKI_URL": "http://loki:3100"}
    urls = resolve(NONE, env=env, state=tmp_path)
    assert urls.traces == ("tempo", "http://tempo:3200") and urls.logs == ("loki", "http://loki:3100")
    both = resolve({"jaeger": "http://jaeger:16686"}, env=env, state=tmp_path)
    assert both.traces == ("jaeger", "http://jaeger:16686") and both.logs == ("loki", "http://loki:3100")


@pytest.mark.parametrize("url", ["localhost:9090", "ftp://host", "http://"])
def test_a_url_without_scheme_or_host_is_a_bad_argument(tmp_path: Path, url: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        resolve({"prometheus": url}, env={}, state=tmp_path)
    assert "invalid prometheus URL" in str(raised.value) and "--prometheus-url" in raised.value.hint
    assert raised.value.exit_code == 2
