"""PostgreSQL backups against a real server: pg_dump -Fc, scratch-database check, restore into a target."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from otel_ops.sidecar.backup import BackupError, BackupMetrics, BackupService, BackupSettings, RestoreRefused
from otel_ops.sidecar.backup.sources import postgres as postgres_source

pytest.register_assert_rewrite("tests.sidecar.conftest_backup")
from tests.sidecar.conftest_backup import PostgresServer, make_settings  # noqa: E402

pytest_plugins = ["tests.sidecar.conftest_backup"]

SCHEMA = """
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, created timestamptz NOT NULL,
                        balance numeric(12, 2), score double precision, avatar bytea, attrs jsonb);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id bigint PRIMARY KEY, customer int REFERENCES customers (id), total numeric);
CREATE INDEX invoices_customer ON billing.invoices (customer);
INSERT INTO customers (name, created, balance, score, avatar, attrs)
SELECT 'customer ' || i, timestamptz '2026-01-01 00:00+00' + i * interval '37 minutes', i * 1.25,
       i / 7.0, decode(md5(i::text), 'hex'), jsonb_build_object('i', i, 'tags', jsonb_build_array('a', i % 3))
FROM generate_series(1, 400) AS i;
INSERT INTO billing.invoices SELECT i, 1 + i % 400, i * 3.5 FROM generate_series(1, 1200) AS i;
"""


def fetch_all(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(dsn) as connection:
        return {
            "customers": connection.execute("SELECT * FROM customers ORDER BY id").fetchall(),
            "invoices": connection.execute("SELECT * FROM billing.invoices ORDER BY id").fetchall(),
        }


def databases(server: PostgresServer) -> set[str]:
    with psycopg.connect(server.dsn("postgres")) as connection:
        return {row[0] for row in connection.execute("SELECT datname FROM pg_database")}


@pytest.fixture
def postgres_backup(
    postgres_server: PostgresServer, tmp_path: Path, new_repository: Callable[[BackupSettings], None]
) -> tuple[BackupService, str]:
    name = f"app_{secrets.token_hex(3)}"
    with psycopg.connect(postgres_server.dsn("postgres"), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    dsn = postgres_server.dsn(name)
    with psycopg.connect(dsn) as connection:
        connection.execute(SCHEMA)  # type: ignore[arg-type]
    settings = make_settings(
        tmp_path, postgres={"main": dsn}, postgres_bin_dir=Path("/usr/lib/postgresql/15/bin")
    )
    new_repository(settings)
    return BackupService(settings, metrics=BackupMetrics()), dsn


def test_postgres_round_trip_into_a_new_database_is_identical(
    postgres_backup: tuple[BackupService, str], postgres_server: PostgresServer
) -> None:
    service, dsn = postgres_backup
    original = fetch_all(dsn)
    [result] = service.create(["postgres:main"])
    assert result.ok, result.error
    with psycopg.connect(dsn) as connection:  # changes after the backup must not appear in the restore
        connection.execute("DELETE FROM billing.invoices WHERE id > 100")
        connection.execute("UPDATE customers SET name = 'changed' WHERE id = 1")

    target = postgres_server.dsn(f"restored_{secrets.token_hex(3)}")
    restored = service.restore("latest", target, source="postgres:main")
    assert restored.ok and "2 tables checked" in (restored.installed or "")
    assert fetch_all(target) == original
    assert not any(name.startswith("otel_ops_scratch_") for name in databases(postgres_server))


def test_postgres_restore_over_the_changed_source_brings_the_backup_back(
    postgres_backup: tuple[BackupService, str],
) -> None:
    service, dsn = postgres_backup
    original = fetch_all(dsn)
    [result] = service.create(["postgres:main"])
    assert result.ok, result.error
    with psycopg.connect(dsn) as connection:
        connection.execute("DELETE FROM billing.invoices")
        connection.execute("INSERT INTO customers (name, created) VALUES ('late', now())")
    assert fetch_all(dsn) != original

    with pytest.raises(BackupError, match=r"database \w+ holds data that differs from the snapshot"):
        service.restore(result.snapshot_id or "", dsn)
    assert fetch_all(dsn) != original  # left as it was
    service.restore(result.snapshot_id or "", dsn, replace=True)
    assert fetch_all(dsn) == original


def test_postgres_restore_is_refused_when_the_scratch_copy_differs(
    postgres_backup: tuple[BackupService, str],
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service, _ = postgres_backup
    [result] = service.create(["postgres:main"])
    assert result.ok, result.error

    real_stats = postgres_source.table_stats

    def one_row_short(connection: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
        stats = real_stats(connection)
        if connection.info.dbname.startswith("otel_ops_scratch_"):
            stats["public.customers"] = {**stats["public.customers"], "rows": 399}
        return stats

    monkeypatch.setattr(postgres_source, "table_stats", one_row_short)
    target_name = f"never_{secrets.token_hex(3)}"
    with pytest.raises(RestoreRefused, match=r"public\.customers has 399 rows"):
        service.restore(result.snapshot_id or "", postgres_server.dsn(target_name))
    assert target_name not in databases(postgres_server)
    assert not any(name.startswith("otel_ops_scratch_") for name in databases(postgres_server))
