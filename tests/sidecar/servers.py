"""Real Alertmanager and an in-process sidecar (uvicorn in a thread) for the sidecar's tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from otel_ops.sidecar.alerts.client import AlertmanagerClient
from otel_ops.sidecar.app import create_app
from otel_ops.sidecar.events import EventBus
from otel_ops.sidecar.health import Check
from otel_ops.sidecar.jobs import AnomalyJob, AnomalyJobRunner
from otel_ops.sidecar.metrics import SidecarMetrics
from otel_ops.sidecar.settings import SidecarSettings
from tests.collector.processes import Process, free_port

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


@dataclass
class Alertmanager:
    process: Process
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alerts(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/api/v2/alerts", timeout=5).json())

    def silences(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/api/v2/silences", timeout=5).json())

    def post(self, labels: dict[str, str], annotations: dict[str, str] | None = None) -> str:
        """Sends a firing alert as Prometheus would; returns its fingerprint once Alertmanager lists it."""
        body = [
            {"labels": labels, "annotations": annotations or {}, "generatorURL": "http://prometheus/graph"}
        ]
        httpx.post(f"{self.url}/api/v2/alerts", json=body, timeout=5).raise_for_status()
        for _ in range(50):
            for alert in self.alerts():
                if alert["labels"] == labels:
                    return str(alert["fingerprint"])
            time.sleep(0.1)
        raise AssertionError(f"alert {labels} never appeared in Alertmanager")


def start_alertmanager(
    workdir: Path, webhook_url: str | None = None, token: str | None = None
) -> Alertmanager:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    receiver: dict[str, Any] = {"name": "sidecar"}
    if webhook_url:
        webhook: dict[str, Any] = {"url": webhook_url, "send_resolved": True}
        if token:
            (workdir / "token").write_text(token)
            webhook["http_config"] = {"authorization": {"credentials_file": str(workdir / "token")}}
        receiver["webhook_configs"] = [webhook]
    config = {
        "route": {
            "receiver": "sidecar",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1s",
        },
        "receivers": [receiver],
    }
    (workdir / "alertmanager.yml").write_text(json.dumps(config))
    process = Process(
        name="alertmanager",
        command=[
            ALERTMANAGER,
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        log=workdir / "alertmanager.log",
    )
    process.start()
    try:
        process.wait_until(f"http://127.0.0.1:{port}/-/ready", 30)
    except BaseException:
        process.stop()
        raise
    return Alertmanager(process, port)


class Sidecar:
    """The sidecar app served by uvicorn on a free port in a background thread."""

    def __init__(self, settings: SidecarSettings, extra_checks: list[Check] | None = None) -> None:
        self.settings = settings
        self.app = create_app(settings, extra_checks=extra_checks or [])
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=settings.port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def __enter__(self) -> Sidecar:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("the sidecar did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


def read_events(lines: Iterator[str], wanted: int, timeout: float = 10.0) -> Iterator[dict[str, Any]]:
    """Parses SSE ``event``/``data`` pairs from a response's lines (yields at most ``wanted``)."""
    deadline = time.monotonic() + timeout
    event_type: str | None = None
    count = 0
    for line in lines:
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for server-sent events")
        if line.startswith("event: "):
            event_type = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield {"type": event_type, **json.loads(line.removeprefix("data: "))}
            count += 1
            if count >= wanted:
                return


def job_runner(
    job: AnomalyJob,
    prometheus_url: str,
    alertmanager_url: str,
    http: httpx.AsyncClient,
    metrics: SidecarMetrics | None = None,
    events: EventBus | None = None,
) -> AnomalyJobRunner:
    """The sidecar's runner of ``job``, in process, for tests that drive its runs one by one."""
    return AnomalyJobRunner(
        [job],
        prometheus_url=prometheus_url,
        alertmanager=AlertmanagerClient(alertmanager_url, http),
        http=http,
        metrics=metrics or SidecarMetrics(),
        events=events or EventBus(),
    )
