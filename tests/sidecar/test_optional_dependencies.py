"""What the sidecar loads only when it is used: the PostgreSQL driver (an optional extra: without it the
sidecar starts, and PostgreSQL sources and checks say how to install it), and the anomaly detectors (only
with an anomaly jobs file, and never numpy, even where it is installed: it would cost about 15 MB)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

# Runs in a fresh interpreter where ``import psycopg`` fails, as on ``pip install otel-ops`` (no extras).
_WITHOUT_PSYCOPG = textwrap.dedent(
    """
    import asyncio, json, sys, tempfile
    from pathlib import Path
    sys.modules["psycopg"] = None  # makes `import psycopg` raise ImportError

    from otel_ops.sidecar.app import create_app
    from otel_ops.sidecar.backup import BackupError, BackupSettings
    from otel_ops.sidecar.backup.sources import configured_sources
    from otel_ops.sidecar.health.checks import describe_dsn, postgres_select_one
    from otel_ops.sidecar.settings import SidecarSettings

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        create_app(SidecarSettings(data_dir=Path(tmp)))
        settings = BackupSettings(data_dir=Path(tmp), postgres={"main": "dbname=app"}, config_dirs=[])
        source = configured_sources(settings)["postgres:main"]
        try:
            source.dump(Path(tmp))
        except BackupError as exc:
            out["backup_error"] = str(exc)
    outcome = asyncio.run(postgres_select_one("dbname=app", 1.0))
    out["check_status"] = outcome.status.value
    out["check_output"] = outcome.output
    out["describe"] = describe_dsn("dbname=app")
    print(json.dumps(out))
    """
)


def test_sidecar_runs_without_the_postgres_driver_and_says_how_to_install_it() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PSYCOPG], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    result = __import__("json").loads(completed.stdout.strip().splitlines()[-1])
    assert "pip install 'otel-ops[postgres]'" in result["backup_error"]
    assert result["check_status"] == "fail"
    assert "pip install 'otel-ops[postgres]'" in result["check_output"]
    assert result["describe"] == "postgresql"  # the DSN is fine: it just cannot be parsed without psycopg


def test_importing_the_sidecar_does_not_load_the_postgres_driver() -> None:
    code = "import sys, otel_ops.sidecar.app; print('psycopg' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False"


# Serves the real `otel-ops sidecar` command and reports, once it answers, which heavy modules it loaded.
_SERVE_AND_REPORT = textwrap.dedent(
    """
    import json, os, sys, threading, time, urllib.request
    port = sys.argv[1]

    def report():
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        print(json.dumps({m: m in sys.modules for m in ("numpy", "psycopg", "otel_ops.sidecar.anomaly")}))
        sys.stdout.flush()
        os._exit(0)

    threading.Thread(target=report, daemon=True).start()
    from otel_ops.cli import main
    sys.argv = ["otel-ops", "sidecar", "--port", port]
    main()
    """
)


def _loaded_by_the_sidecar(tmp_path: Path, **env: str) -> dict[str, bool]:
    from tests.collector.processes import free_port

    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    environment |= {"OTEL_OPS_DATA_DIR": str(tmp_path / "data"), "OTEL_OPS_LOG_CONSOLE": "none", **env}
    environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{free_port()}"
    completed = subprocess.run(
        [sys.executable, "-c", _SERVE_AND_REPORT, str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return __import__("json").loads(completed.stdout.strip().splitlines()[-1])


def test_the_sidecar_loads_the_detectors_only_with_anomaly_jobs(tmp_path: Path) -> None:
    assert _loaded_by_the_sidecar(tmp_path) == {
        "numpy": False,
        "psycopg": False,
        "otel_ops.sidecar.anomaly": False,
    }
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text("jobs:\n  - name: errors\n    query: vector(1)\n")
    with_jobs = _loaded_by_the_sidecar(
        tmp_path,
        OTEL_OPS_ANOMALY_JOBS_FILE=str(jobs),
        OTEL_OPS_PROMETHEUS_URL="http://127.0.0.1:1",
    )
    assert with_jobs["otel_ops.sidecar.anomaly"] and not with_jobs["numpy"]
