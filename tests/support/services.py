"""Instrumented FastAPI apps for tests, served by uvicorn in their own process and exporting over OTLP."""

from __future__ import annotations

import sys
from pathlib import Path

from otel_ops.stack.processes import ManagedProcess


def uvicorn_app(
    app: str,
    app_dir: Path,
    port: int,
    service_name: str,
    otlp_endpoint: str,
    log: Path,
    export_delay_ms: int = 500,
) -> ManagedProcess:
    """``uvicorn --app-dir APP_DIR APP`` on 127.0.0.1:``port``, exporting to ``otlp_endpoint`` every second
    (metrics) and every ``export_delay_ms`` (spans, logs); ready when ``/health`` answers."""
    return ManagedProcess(
        name=service_name,
        command=[
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(app_dir),
            app,
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        log=log,
        ready_url=f"http://127.0.0.1:{port}/health",
        env={
            "OTEL_SERVICE_NAME": service_name,
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
            "OTEL_METRIC_EXPORT_INTERVAL": "1000",
            "OTEL_BSP_SCHEDULE_DELAY": str(export_delay_ms),
            "OTEL_BLRP_SCHEDULE_DELAY": str(export_delay_ms),
        },
    )
