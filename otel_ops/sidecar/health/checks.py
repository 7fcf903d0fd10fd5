"""The sidecar's health checks; ``build_checks`` turns settings into the list to run."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
import psutil

from otel_ops.sidecar.health.model import Check, Outcome, Status
from otel_ops.sidecar.settings import SidecarSettings
from otel_ops.sidecar.sqlite_files import connect_read_only


def _url(base: object, path: str) -> str:
    return str(base).rstrip("/") + path


async def http_ready(client: httpx.AsyncClient, url: str) -> Outcome:
    """2xx → pass; anything else fails with the status and the start of the body."""
    started = time.perf_counter()
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        return Outcome(Status.FAIL, output=f"{url}: {type(exc).__name__}: {exc}".rstrip(": "))
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    if response.is_success:
        return Outcome(Status.PASS, elapsed_ms, "ms")
    body = response.text.strip().replace("\n", " ")[:200]
    return Outcome(Status.FAIL, elapsed_ms, "ms", f"{url}: HTTP {response.status_code} {body}".strip())


def _sqlite_quick_check(path: Path) -> Outcome:
    if not path.is_file():
        return Outcome(Status.FAIL, output=f"{path} does not exist")
    connection = connect_read_only(path, timeout=1.0)
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    finally:
        connection.close()
    messages = [str(row[0]) for row in rows]
    if messages == ["ok"]:
        return Outcome(Status.PASS, "ok")
    return Outcome(Status.FAIL, "corrupt", output="; ".join(messages)[:500])


async def sqlite_integrity(path: Path) -> Outcome:
    return await asyncio.to_thread(_sqlite_quick_check, path)


def describe_dsn(dsn: str) -> str:
    """``host:port/dbname`` of a DSN, without user or password."""
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return "postgresql"  # no driver to parse it with; the check itself says how to install one
    try:
        parts = conninfo_to_dict(dsn)
    except Exception:
        return "postgresql (unparsable DSN)"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"{host}:{port}/{parts.get('dbname') or ''}"


async def postgres_select_one(dsn: str, timeout: float) -> Outcome:
    try:
        import psycopg
    except ImportError:
        return Outcome(
            Status.FAIL, output="the PostgreSQL check needs psycopg: pip install 'otel-ops[postgres]'"
        )
    started = time.perf_counter()
    try:
        connection = await psycopg.AsyncConnection.connect(dsn, connect_timeout=max(1, int(timeout)))
    except psycopg.Error as exc:
        # The driver's message names host and reason, never the password.
        return Outcome(Status.FAIL, output=str(exc).strip().splitlines()[0][:300])
    try:
        async with connection.cursor() as cursor:
            await cursor.execute("select 1")
            await cursor.fetchone()
    finally:
        await connection.close()
    return Outcome(Status.PASS, round((time.perf_counter() - started) * 1000, 1), "ms")


def _existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


async def disk_free(path: Path, warn_percent: float, fail_percent: float) -> Outcome:
    usage = shutil.disk_usage(_existing(path))
    free = round(100.0 * usage.free / usage.total, 2)
    output = f"{usage.free // 2**20} MiB free of {usage.total // 2**20} MiB at {path}"
    if free < fail_percent:
        return Outcome(Status.FAIL, free, "percent", output)
    if free < warn_percent:
        return Outcome(Status.WARN, free, "percent", output)
    return Outcome(Status.PASS, free, "percent")


async def system_memory(warn_percent: float, fail_percent: float) -> Outcome:
    used = psutil.virtual_memory().percent
    if used >= fail_percent:
        return Outcome(Status.FAIL, used, "percent", f"system memory {used}% used")
    if used >= warn_percent:
        return Outcome(Status.WARN, used, "percent", f"system memory {used}% used")
    return Outcome(Status.PASS, used, "percent")


async def process_memory(limit_mib: float | None) -> Outcome:
    rss = psutil.Process().memory_info().rss
    if limit_mib is not None and rss > limit_mib * 2**20:
        return Outcome(Status.WARN, rss, "bytes", f"resident memory above {limit_mib:g} MiB")
    return Outcome(Status.PASS, rss, "bytes")


def build_checks(settings: SidecarSettings, client: httpx.AsyncClient) -> list[Check]:
    noncritical = set(settings.noncritical_checks)

    def check(key: str, component_id: str, kind: str, run: Callable[[], Awaitable[Outcome]]) -> Check:
        component = key.split(":", 1)[0]
        return Check(key, component_id, kind, component not in noncritical, run)

    checks = [
        check(
            "collector:health",
            "otel-collector",
            "component",
            partial(http_ready, client, str(settings.collector_health_url)),
        ),
        check(
            "prometheus:ready",
            "prometheus",
            "component",
            partial(http_ready, client, _url(settings.prometheus_url, "/-/ready")),
        ),
        check(
            "alertmanager:ready",
            "alertmanager",
            "component",
            partial(http_ready, client, _url(settings.alertmanager_url, "/-/ready")),
        ),
    ]
    optional = (
        ("loki", settings.loki_url, "/ready"),
        ("tempo", settings.tempo_url, "/ready"),
        ("jaeger", settings.jaeger_url, "/api/v3/services"),
        ("victorialogs", settings.victorialogs_url, "/health"),
        ("grafana", settings.grafana_url, "/api/health"),
    )
    for name, base, path in optional:
        if base is not None:
            checks.append(
                check(f"{name}:ready", name, "component", partial(http_ready, client, _url(base, path)))
            )
    for database in settings.sqlite_paths:
        checks.append(
            check("sqlite:integrity", str(database), "datastore", partial(sqlite_integrity, database))
        )
    for secret in settings.postgres_dsns:
        dsn = secret.get_secret_value()
        checks.append(
            check(
                "postgresql:responseTime",
                describe_dsn(dsn),
                "datastore",
                partial(postgres_select_one, dsn, settings.check_timeout),
            )
        )
    checks.append(
        check(
            "disk:free",
            str(settings.data_dir),
            "system",
            partial(
                disk_free, settings.data_dir, settings.disk_warn_free_percent, settings.disk_fail_free_percent
            ),
        )
    )
    checks.append(
        check(
            "memory:utilization",
            "system",
            "system",
            partial(system_memory, settings.memory_warn_percent, settings.memory_fail_percent),
        )
    )
    checks.append(
        check("memory:rss", "process", "system", partial(process_memory, settings.process_memory_limit_mib))
    )
    return checks
