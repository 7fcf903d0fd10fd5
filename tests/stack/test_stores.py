"""The native stack's trace and log stores: Jaeger v2 and VictoriaLogs, real, behind the real Collector.

What an on-call engineer relies on: a trace and its log lines can be found by trace id about a second
after they were sent; both survive a restart of the store; a store that is down loses nothing the
Collector accepted; secrets are masked before they reach the log store; and the stores are built once,
cached by version.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_ops.cli import app
from otel_ops.stack import components, store_build
from otel_ops.stack.ports import StackPorts
from otel_ops.stack.processes import StackError
from tests.stack.conftest import Stack, cli, wait_for
from tests.support.stores import (
    jaeger_span_names,
    running_stores,
    send_span_and_log,
    store_binary,
    victorialogs_records,
)


def _trace_id() -> str:
    return secrets.token_hex(16)


def _found(stores_url: str, trace_id: str, span_name: str) -> Callable[[], bool]:
    return lambda: span_name in jaeger_span_names(stores_url, trace_id)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_trace_and_its_logs_are_found_by_trace_id_and_survive_restarts(tmp_path: Path) -> None:
    with running_stores(tmp_path / "state") as stores:
        trace_id = _trace_id()
        send_span_and_log(stores.otlp_http, trace_id, "GET /orders/{id}", "order 42 loaded")

        wait_for("the span in Jaeger", _found(stores.jaeger_url, trace_id, "GET /orders/{id}"), timeout=20)
        records = wait_for(
            "the log line in VictoriaLogs",
            lambda: victorialogs_records(stores.victorialogs_url, f"trace_id:={trace_id}"),
            timeout=20,
        )
        assert [record["_msg"] for record in records] == ["order 42 loaded"]
        assert records[0]["service.name"] == "store-test"
        assert records[0]["span_id"] == trace_id[:16]
        # Per-process resource attributes do not split log streams: only the service and environment do.
        assert (
            records[0]["_stream"] == '{deployment.environment.name="development",service.name="store-test"}'
        )

        for name in ("jaeger", "victorialogs"):
            assert stores.stop(name) == 0, f"{name} did not stop cleanly"
            stores.start(name)
        assert jaeger_span_names(stores.jaeger_url, trace_id) == ["GET /orders/{id}"]
        assert [
            r["_msg"] for r in victorialogs_records(stores.victorialogs_url, f"trace_id:={trace_id}")
        ] == ["order 42 loaded"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_what_arrives_while_a_store_is_down_is_delivered_when_it_is_back(tmp_path: Path) -> None:
    with running_stores(tmp_path / "state") as stores:
        stores.stop("jaeger")
        stores.stop("victorialogs")
        trace_id = _trace_id()
        # The Collector accepts it (its queues are on disk) although neither store is up.
        send_span_and_log(stores.otlp_http, trace_id, "POST /v1/complete", "completion served")
        stores.start("jaeger")
        stores.start("victorialogs")
        wait_for("the queued span in Jaeger", _found(stores.jaeger_url, trace_id, "POST /v1/complete"), 60)
        wait_for(
            "the queued log line in VictoriaLogs",
            lambda: victorialogs_records(stores.victorialogs_url, f"trace_id:={trace_id}"),
            timeout=60,
        )


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_spans_jaeger_refuses_over_its_memory_limit_are_delivered_once_it_has_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A limit far below Jaeger's working heap: its memory limiter refuses every write.
    monkeypatch.setenv("OTEL_OPS_JAEGER_MEMORY_LIMIT_MIB", "4")
    monkeypatch.setenv("OTEL_OPS_JAEGER_MEMORY_SPIKE_LIMIT_MIB", "2")
    with running_stores(tmp_path / "state") as stores:
        # The limiter checks memory on a timer: a span sent before its first check is accepted.
        jaeger_log = tmp_path / "state" / "logs" / "jaeger.log"
        wait_for(
            "Jaeger's memory limiter to start refusing",
            lambda: "Refusing data" in jaeger_log.read_text(),
            timeout=30,
        )
        trace_id = _trace_id()
        send_span_and_log(stores.otlp_http, trace_id, "POST /v1/embed", "embedding served")
        collector_log = tmp_path / "state" / "logs" / "collector.log"
        wait_for(
            "the Collector to be refused by Jaeger's memory limiter",
            lambda: any(
                "otlp_grpc/jaeger" in line and "data refused due to high memory usage" in line
                for line in collector_log.read_text().splitlines()
            ),
            timeout=60,
        )
        assert jaeger_span_names(stores.jaeger_url, trace_id) == []
        stores.stop("jaeger")
        monkeypatch.delenv("OTEL_OPS_JAEGER_MEMORY_LIMIT_MIB")
        monkeypatch.delenv("OTEL_OPS_JAEGER_MEMORY_SPIKE_LIMIT_MIB")
        stores.start("jaeger")
        wait_for("the refused span in Jaeger", _found(stores.jaeger_url, trace_id, "POST /v1/embed"), 60)


def test_go_components_get_gomemlimit_below_their_memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    monkeypatch.setenv("OTEL_OPS_JAEGER_MEMORY_LIMIT_MIB", "2000")
    assert components.go_memory_limit("OTEL_OPS_JAEGER_MEMORY_LIMIT_MIB") == {"GOMEMLIMIT": "1600MiB"}
    monkeypatch.delenv("OTEL_OPS_MEMORY_LIMIT_MIB", raising=False)
    assert components.go_memory_limit("OTEL_OPS_MEMORY_LIMIT_MIB") == {"GOMEMLIMIT": "819MiB"}
    monkeypatch.setenv("OTEL_OPS_JAEGER_MEMORY_LIMIT_MIB", "1GiB")
    with pytest.raises(StackError, match="OTEL_OPS_JAEGER_MEMORY_LIMIT_MIB='1GiB' is not a whole number"):
        components.go_memory_limit("OTEL_OPS_JAEGER_MEMORY_LIMIT_MIB")
    monkeypatch.setenv("GOMEMLIMIT", "3GiB")  # the user's own setting wins
    assert components.go_memory_limit("OTEL_OPS_JAEGER_MEMORY_LIMIT_MIB") == {}


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_secrets_are_masked_before_they_reach_the_log_store(tmp_path: Path) -> None:
    with running_stores(tmp_path / "state") as stores:
        trace_id = _trace_id()
        key = "sk-proj-" + secrets.token_hex(16)
        send_span_and_log(stores.otlp_http, trace_id, "POST /v1/complete", f"calling the model with {key}")
        records = wait_for(
            "the log line in VictoriaLogs",
            lambda: victorialogs_records(stores.victorialogs_url, f"trace_id:={trace_id}"),
            timeout=20,
        )
        assert key not in records[0]["_msg"]
        assert "****" in records[0]["_msg"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_up_runs_the_stores_and_the_collector_sends_them_traces_and_logs(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory("--no-sidecar", "--no-alertmanager", "--retention", "2d")
    trace_id = _trace_id()
    send_span_and_log(stack.otlp_http, trace_id, "GET /health/deep", "deep health check passed")
    wait_for("the span in Jaeger", _found(stack.jaeger, trace_id, "GET /health/deep"), timeout=20)
    wait_for(
        "the log line in VictoriaLogs",
        lambda: victorialogs_records(stack.victorialogs, f"trace_id:={trace_id}"),
        timeout=20,
    )
    # Data lives under the stack's state directory, with the retention asked for.
    assert any((stack.state / "jaeger" / "keys").iterdir())
    assert (stack.state / "victorialogs" / "data").is_dir()
    victorialogs_command = (stack.state / "run" / "victorialogs.json").read_text()
    assert "-retentionPeriod=48h" in victorialogs_command


def test_up_refuses_a_malformed_retention(tmp_path: Path) -> None:
    result = cli(tmp_path / "state", "up", "--retention", "7x", timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "invalid retention '7x'" in result.stderr and "36h, 7d, 2w" in result.stderr
    assert not (tmp_path / "state" / "run").exists()


@pytest.mark.parametrize(("retention", "hours"), [("36h", 36), ("7d", 168), ("2w", 336)])
def test_retention_reaches_both_stores(tmp_path: Path, retention: str, hours: int) -> None:
    ports = StackPorts()
    jaeger = components.jaeger_process(Path("/bin/jaeger"), ports, tmp_path, retention)
    assert jaeger.env["OTEL_OPS_JAEGER_RETENTION"] == f"{hours}h"
    logs = components.victorialogs_process(Path("/bin/victorialogs"), ports, tmp_path, retention)
    assert f"-retentionPeriod={hours}h" in logs.command
    with pytest.raises(StackError, match="invalid retention"):
        components.retention_hours("0d")


def test_the_collector_sends_to_the_stores_that_run() -> None:
    assert components.backends(["prometheus", "jaeger", "collector"]) == ["prometheus", "jaeger"]
    assert components.backends(["jaeger", "victorialogs"]) == ["prometheus", "jaeger", "victorialogs"]
    assert components.backends([]) == ["prometheus"]


def test_stores_are_built_once_and_found_in_the_cache() -> None:
    for name in store_build.PROGRAMS:
        binary = store_binary(name)
        assert store_build.binary_path(name) == binary
        assert store_build.build_dir(store_build.program(name)) == binary.parent
        assert store_build.program(name).version in binary.parent.name
        # A second ask builds nothing: the same file, untouched.
        before = binary.stat().st_mtime_ns
        assert store_build.ensure_store(name) == binary and binary.stat().st_mtime_ns == before

    result = CliRunner().invoke(app, ["stores", "path", "jaeger"])
    assert result.exit_code == 0 and result.output.strip() == str(store_build.binary_path("jaeger"))


def test_build_cache_is_keyed_by_version_and_go() -> None:
    jaeger = store_build.JAEGER
    first = store_build.build_hash(jaeger, go="go1.26.8")
    assert store_build.build_hash(jaeger, go="go1.26.8") == first
    assert store_build.build_hash(jaeger, go="go1.27.0") != first
    newer = store_build.GoProgram(**{**jaeger.__dict__, "version": "v1.76.0"})
    assert store_build.build_hash(newer, go="go1.26.8") != first


def test_unknown_store_and_unbuilt_store_are_clear_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    unknown = runner.invoke(app, ["stores", "build", "elasticsearch"])
    assert unknown.exit_code == 2  # a bad argument
    assert "unknown store 'elasticsearch': choose from jaeger, victorialogs" in unknown.output

    monkeypatch.setenv("OTEL_OPS_CACHE_DIR", str(tmp_path / "empty-cache"))
    missing = runner.invoke(app, ["stores", "path", "victorialogs"])
    assert missing.exit_code == 1
    assert "victorialogs is not built yet: run `otel-ops stores build victorialogs`" in missing.output


def test_a_failed_build_says_why_and_caches_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_OPS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GOPROXY", "off")
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "modcache"))
    monkeypatch.setenv("GOFLAGS", "-modcacherw")
    with pytest.raises(
        store_build.BuildError, match=r"cannot download github.com/jaegertracing/jaeger@v1.75.0"
    ):
        store_build.ensure_store("jaeger")
    assert store_build.binary_path("jaeger") is None
