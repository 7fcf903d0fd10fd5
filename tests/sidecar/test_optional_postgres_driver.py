"""The PostgreSQL driver is an optional extra: without it the sidecar starts, and PostgreSQL sources and
checks say how to install it instead of crashing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
    assert result["describe"] == "postgresql (unparsable DSN)"


def test_importing_the_sidecar_does_not_load_the_postgres_driver() -> None:
    code = "import sys, otel_ops.sidecar.app; print('psycopg' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False"
