"""Process managers: fork (gunicorn --preload), spawned workers (uvicorn --workers), double configuration,
and the zero-code ``otel-ops run`` wrapper."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from typer.testing import CliRunner

from otel_ops.cli import app as cli
from tests.instrumentation.conftest import BIN, Server, free_port, run_python, service_env

REPO = Path(__file__).resolve().parents[2]

FORK_SCRIPT = """
import os, otel_ops
from opentelemetry import metrics
otel_ops.configure()
counter = metrics.get_meter("fork-test").create_counter("jobs")
counter.add(5, {"who": "parent"})
pid = os.fork()
if pid == 0:
    counter.add(1, {"who": "child"})
    otel_ops.shutdown()
    os._exit(0)
os.waitpid(pid, 0)
otel_ops.shutdown()
print(os.getpid(), pid)
"""


def test_fork_child_reports_its_own_pid_and_not_the_parents_counts(sink):
    result = run_python(FORK_SCRIPT, service_env(sink, OTEL_OPS_PROCESS_METRICS="false"))
    parent_pid, child_pid = (int(x) for x in result.stdout.split())
    jobs = [m for m in sink.metrics() if m["name"] == "jobs"]
    by_pid: dict[int, dict[str, float]] = {}
    for metric in jobs:
        for point in metric["points"]:
            by_pid.setdefault(metric["resource"]["process.pid"], {})[point["attributes"]["who"]] = point[
                "value"
            ]
    assert by_pid[parent_pid] == {"parent": 5}
    assert by_pid[child_pid] == {"child": 1}, "the child re-exported its parent's measurements"
    instance_ids = {m["resource"]["service.instance.id"] for m in jobs}
    assert len(instance_ids) == 2


def test_codecs_the_export_needs_are_loaded_before_a_fork_can_interrupt_their_import(sink):
    # A fork during the export thread's first connection used to leave the child with the idna codec
    # cached as unknown: every export of that gunicorn worker then failed with "unknown encoding: idna".
    script = """
    import sys, otel_ops
    otel_ops.configure()
    print("encodings.idna" in sys.modules)
    otel_ops.shutdown()
    """
    result = run_python(script, service_env(sink, OTEL_OPS_PROCESS_METRICS="false"))
    assert result.stdout.split() == ["True"]


def test_gunicorn_preload_workers_export_with_their_own_pid(sink, servers):
    port = free_port()
    server = Server(
        [
            str(BIN / "gunicorn"),
            "--preload",
            "-w",
            "2",
            "-k",
            "uvicorn.workers.UvicornWorker",
            "-b",
            f"127.0.0.1:{port}",
            "tests.instrumentation.demo_app:app",
        ],
        service_env(sink),
        port,
        REPO,
    )
    servers.append(server)
    with httpx.Client() as client:
        for i in range(40):
            client.get(f"{server.url}/items/{i}", headers={"connection": "close"})
    server.stop()
    spans = [s for s in sink.spans() if s["kind"] == 2]
    assert len(spans) == 40, server.output()
    pids = {s["resource"]["process.pid"] for s in spans}
    assert server.process.pid not in pids, "spans carry the master's pid"
    assert 1 <= len(pids) <= 2


def test_otel_ops_run_instruments_an_unmodified_app_in_spawned_workers(sink, servers):
    port = free_port()
    server = Server(
        [
            str(BIN / "otel-ops"),
            "run",
            "--service-name",
            "zero-code",
            "--",
            str(BIN / "uvicorn"),
            "tests.instrumentation.demo_app:app",
            "--workers",
            "2",
            "--port",
            str(port),
        ],
        service_env(sink, DEMO_CONFIGURE="0"),
        port,
        REPO,
    )
    servers.append(server)
    with httpx.Client() as client:
        for i in range(30):
            assert client.get(f"{server.url}/items/{i}", headers={"connection": "close"}).status_code == 200
    server.stop()
    spans = [s for s in sink.spans() if s["kind"] == 2]
    assert len(spans) == 30
    assert {s["resource"]["service.name"] for s in spans} == {"zero-code"}
    assert {s["name"] for s in spans} == {"GET /items/{item_id}"}


def test_configure_twice_and_instrument_twice_give_one_span(sink):
    script = """
    import otel_ops
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    app = FastAPI()
    @app.get("/x")
    def x():
        return {}
    first = otel_ops.configure(app=app)
    second = otel_ops.configure(app=app)
    otel_ops.instrument_fastapi(app)
    assert first is second
    with TestClient(app) as client:
        client.get("/x")
    otel_ops.shutdown()
    """
    run_python(script, service_env(sink, OTEL_OPS_CLIENT_PROPAGATION="false"))
    assert [s["name"] for s in sink.spans()] == ["GET /x"], (
        "FastAPI's built-in telemetry or a second middleware"
    )


def test_sdk_disabled_sends_nothing(sink):
    script = """
    import otel_ops
    from opentelemetry import trace
    otel_ops.configure()
    with trace.get_tracer("t").start_as_current_span("x"):
        pass
    otel_ops.shutdown()
    """
    run_python(script, service_env(sink, OTEL_SDK_DISABLED="true"))
    assert sink.requests == []


def test_run_without_a_command_or_with_an_unknown_one_fails_clearly():
    runner = CliRunner()
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 2 and "give the command" in result.output
    result = runner.invoke(cli, ["run", "--", "no-such-program-xyz"])
    assert result.exit_code == 127 and "command not found" in result.output
    result = subprocess.run(
        [str(BIN / "otel-ops"), "run", "--protocol", "carrier-pigeon", "--", sys.executable, "-c", "pass"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "http/protobuf or grpc" in result.stderr
