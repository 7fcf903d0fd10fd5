"""Start a throwaway Prometheus on a TSDB directory and fingerprint what it answers.

The fingerprint is a SHA-256 over range-query results (series count and value sum per metric name) across
the blocks' whole time range, so two directories with the same samples give the same fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from otel_ops.sidecar.backup.errors import BackupError

FINGERPRINT_QUERIES = (
    'count by (__name__) ({__name__=~".+"})',
    'sum by (__name__) ({__name__=~".+"})',
)
MAX_POINTS = 250
READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def block_time_range(tsdb: Path) -> tuple[int, int] | None:
    """(min, max) sample time in ms over the blocks in ``tsdb``; None when it holds no block."""
    times = []
    for meta in tsdb.glob("*/meta.json"):
        data = json.loads(meta.read_text())
        times.append((int(data["minTime"]), int(data["maxTime"])))
    if not times:
        return None
    return min(t[0] for t in times), max(t[1] for t in times)


def _get(url: str, timeout: float = 30.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@contextmanager
def prometheus_on(tsdb: Path, binary: str) -> Iterator[str]:
    """A Prometheus serving a private copy of ``tsdb`` (it scrapes nothing); yields its base URL."""
    executable = shutil.which(binary)
    if executable is None:
        raise BackupError(f"Prometheus ({binary!r}) not found: needed to check a TSDB snapshot")
    with tempfile.TemporaryDirectory(prefix="otel-ops-tsdb-probe-") as work:
        data = Path(work) / "data"
        shutil.copytree(tsdb, data)
        config = Path(work) / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        port = free_port()
        log = (Path(work) / "prometheus.log").open("w")
        process = subprocess.Popen(
            [
                executable,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=100y",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    log.flush()
                    tail = (Path(work) / "prometheus.log").read_text()[-1500:]
                    raise BackupError(f"Prometheus exited while opening the snapshot:\n{tail}")
                try:
                    urllib.request.urlopen(f"{url}/-/ready", timeout=1).close()
                    break
                except (urllib.error.URLError, OSError):
                    if time.monotonic() > deadline:
                        raise BackupError("Prometheus did not become ready on the snapshot") from None
                    time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def fingerprint(tsdb: Path, binary: str) -> dict[str, Any]:
    """Query a Prometheus started on ``tsdb``; per query a digest and the number of series answered."""
    span = block_time_range(tsdb)
    if span is None:
        return {"range_ms": None, "queries": {}}
    start, end = span[0] / 1000, (span[1] - 1) / 1000
    step = max(1, math.ceil((end - start) / MAX_POINTS))
    results: dict[str, Any] = {}
    with prometheus_on(tsdb, binary) as url:
        for query in FINGERPRINT_QUERIES:
            params = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": step})
            payload = _get(f"{url}/api/v1/query_range?{params}")
            if payload.get("status") != "success":
                raise BackupError(f"Prometheus query {query!r} failed: {payload}")
            series = sorted(payload["data"]["result"], key=lambda s: json.dumps(s["metric"], sort_keys=True))
            canonical = json.dumps(series, sort_keys=True).encode()
            results[query] = {
                "series": len(series),
                "points": sum(len(s["values"]) for s in series),
                "sha256": hashlib.sha256(canonical).hexdigest(),
            }
    return {"range_ms": list(span), "step_s": step, "queries": results}
