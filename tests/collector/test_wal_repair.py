"""A Collector killed mid-write leaves a torn remote-write WAL; otel-ops repairs it, losing nothing queued."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_ops.cli import app as cli
from otel_ops.stack import collector_build
from otel_ops.stack.collector_wal import complete_prefix, repair_remote_write_wal
from tests.collector.processes import free_port, start_collector, start_prometheus
from tests.collector.test_crash import Stream, metrics_request, wait_for

pytestmark = pytest.mark.slow


def _entry(payload: bytes) -> bytes:
    length = len(payload)
    header = bytearray()
    while length >= 0x80:
        header.append((length & 0x7F) | 0x80)
        length >>= 7
    header.append(length)
    return bytes(header) + payload


def test_complete_prefix_stops_before_a_torn_entry() -> None:
    whole = _entry(b"a" * 5) + _entry(b"b" * 300)
    assert complete_prefix(whole) == len(whole)
    assert complete_prefix(whole + _entry(b"c" * 200)[:50]) == len(whole)
    assert complete_prefix(whole + b"\x80") == len(whole)  # a torn length
    assert complete_prefix(b"") == 0


def test_torn_wal_is_repaired_and_its_metrics_delivered(collector_binary: Path, tmp_path: Path) -> None:
    prometheus_port = free_port()
    configs = collector_build.fragments(["prometheus"])
    env = {"OTEL_OPS_PROMETHEUS_REMOTE_WRITE_URL": f"http://127.0.0.1:{prometheus_port}/api/v1/write"}
    workdir = tmp_path / "collector"
    storage = workdir / "storage"

    # Prometheus is down: every point the Collector accepts waits in its WAL.
    collector, ports = start_collector(collector_binary, configs, workdir, env=env)
    stream = Stream(ports.http, "/v1/metrics", metrics_request).start()
    stream.wait_for_more_acks(500)
    stream.stop()
    collector.stop()
    acked = set(stream.acked)
    assert len(acked) >= 500

    # Tear the last entry, as a kill during an append does.
    segment = max((storage / "prometheus-wal").rglob("0*"))
    whole = segment.read_bytes()
    segment.write_bytes(whole + _entry(b"x" * 4096)[:1000])
    with pytest.raises(AssertionError, match="log corrupt"):
        start_collector(collector_binary, configs, workdir, env=env, ports=ports, timeout=10)

    result = CliRunner().invoke(cli, ["collector", "repair-wal", "--storage-dir", str(storage)])
    assert result.exit_code == 0 and "removed 1000 bytes" in result.output
    assert segment.read_bytes() == whole
    assert repair_remote_write_wal(storage) == []  # whole now

    prometheus = start_prometheus(tmp_path / "prometheus", port=prometheus_port)
    collector, _ = start_collector(collector_binary, configs, workdir, env=env, ports=ports)
    try:

        def delivered() -> set[int]:
            return {int(s["metric"]["seq"]) for s in prometheus.query(f'crash_probe{{run="{stream.run}"}}')}

        wait_for(lambda: acked <= delivered(), 60, "the repaired WAL's metrics did not all reach Prometheus")
    finally:
        collector.stop()
        prometheus.process.stop()
