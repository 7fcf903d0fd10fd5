"""PostgreSQL databases: ``pg_dump -Fc`` plus per-table row counts and checksums from the same snapshot.

A restore goes first into a scratch database on the target's server; only when every table's row count and
checksum match what was dumped is the target itself restored.

The driver (psycopg, ``pip install 'otel-ops[postgres]'``) is loaded when a PostgreSQL source is first used,
so installations without it (or without PostgreSQL sources) neither need it nor pay for it.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from otel_ops.sidecar.backup.errors import BackupError
from otel_ops.sidecar.backup.manifest import Manifest
from otel_ops.sidecar.backup.sources.base import Source, refuse_replacing

if TYPE_CHECKING:
    import psycopg

DUMP_NAME = "database.dump"
#: Session settings that make the text form of rows (and so their checksums) independent of the server.
_STABLE_OUTPUT = (
    "SET TIME ZONE 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 3",
    "SET bytea_output = 'hex'",
)
_TABLES = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
ORDER BY 1, 2
"""


def _driver() -> ModuleType:
    """The psycopg module, or a BackupError saying how to install it."""
    try:
        import psycopg
    except ImportError:
        raise BackupError(
            "PostgreSQL backups need the psycopg driver: pip install 'otel-ops[postgres]'"
        ) from None
    return psycopg


def table_stats(connection: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    """``schema.table`` -> row count and an order-independent MD5 over the rows' text form."""
    for statement in _STABLE_OUTPUT:
        connection.execute(statement)
    stats: dict[str, dict[str, Any]] = {}
    for schema, table in connection.execute(_TABLES).fetchall():
        sql = _driver().sql
        query = sql.SQL(
            "SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') "
            "FROM {}.{} AS t"
        ).format(sql.Identifier(schema), sql.Identifier(table))
        count, checksum = connection.execute(query).fetchone()  # type: ignore[misc]
        stats[f"{schema}.{table}"] = {"rows": int(count), "md5": checksum}
    return stats


def compare_stats(expected: dict[str, Any], actual: dict[str, Any], where: str) -> list[str]:
    problems = [f"{where}: table {name} missing" for name in sorted(set(expected) - set(actual))]
    problems += [f"{where}: unexpected table {name}" for name in sorted(set(actual) - set(expected))]
    for name in sorted(set(expected) & set(actual)):
        if expected[name] != actual[name]:
            problems.append(
                f"{where}: table {name} has {actual[name]['rows']} rows "
                f"(checksum {actual[name]['md5'][:8]}), "
                f"backed up {expected[name]['rows']} rows (checksum {expected[name]['md5'][:8]})"
            )
    return problems


def _database_name(dsn: str) -> str:
    name = _driver().conninfo.conninfo_to_dict(dsn).get("dbname")
    if not name:
        raise BackupError(f"PostgreSQL conninfo {_redact(dsn)!r} names no database (dbname=...)")
    return str(name)


def _redact(dsn: str) -> str:
    conninfo = _driver().conninfo
    params = conninfo.conninfo_to_dict(dsn)
    if "password" in params:
        params["password"] = "***"
    return conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})


@contextlib.contextmanager
def _admin(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to the server of ``dsn`` for CREATE/DROP DATABASE."""
    pg = _driver()
    last: Exception | None = None
    for dbname in ("postgres", "template1"):
        try:
            connection = pg.connect(pg.conninfo.make_conninfo(dsn, dbname=dbname), autocommit=True)
        except pg.Error as exc:
            last = exc
            continue
        with connection:
            yield connection
        return
    raise BackupError(f"cannot connect to the PostgreSQL server of {_redact(dsn)}: {last}")


class PostgresSource(Source):
    kind = "postgres"
    target_help = "a PostgreSQL conninfo or URL of the database to restore into"

    @property
    def dsn(self) -> str:
        configured = self.settings.postgres.get(self.name.split(":", 1)[-1])
        if configured is None:
            raise BackupError(f"source {self.name}: no PostgreSQL database configured")
        return configured

    def _run(self, tool: str, args: list[str]) -> None:
        try:
            result = subprocess.run(
                [self.settings.pg_tool(tool), *args],
                capture_output=True,
                text=True,
                timeout=self.settings.command_timeout_s,
                check=False,
            )
        except FileNotFoundError:
            raise BackupError(
                f"{tool} not found: install the PostgreSQL client (apt-get install postgresql-client) "
                "or set OTEL_OPS_BACKUP_POSTGRES_BIN_DIR"
            ) from None
        if result.returncode != 0:
            raise BackupError(f"source {self.name}: {tool} failed: {result.stderr.strip()[-1500:]}")

    def dump(self, staging: Path) -> dict[str, Any]:
        dsn = self.dsn
        pg = _driver()
        try:
            with pg.connect(dsn) as connection:
                connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
                self._run("pg_dump", ["-Fc", f"--snapshot={snapshot}", "-f", str(staging / DUMP_NAME), dsn])
                stats = table_stats(connection)
                connection.execute("COMMIT")
        except pg.Error as exc:
            raise BackupError(f"source {self.name}: PostgreSQL {_redact(dsn)}: {exc}") from exc
        return {"database": _database_name(dsn), "dump": DUMP_NAME, "tables": stats}

    def _restore_into(self, dump: Path, dsn: str, clean: bool) -> None:
        args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "-d", dsn]
        if clean:
            args[:0] = ["--clean", "--if-exists"]
        self._run("pg_restore", [*args, str(dump)])

    def _stats_of(self, dsn: str) -> dict[str, Any]:
        with _driver().connect(dsn) as connection:
            return table_stats(connection)

    def check(self, restored: Path, manifest: Manifest, target: str | None) -> list[str]:
        """Restore into a scratch database on the target's (or the source's) server and compare tables."""
        server = target or self.settings.postgres.get(self.name.split(":", 1)[-1])
        if server is None:
            return [f"{self.name}: no PostgreSQL server to check the dump on (give --target)"]
        scratch = f"otel_ops_scratch_{secrets.token_hex(4)}"
        pg = _driver()
        sql, make_conninfo = pg.sql, pg.conninfo.make_conninfo
        with _admin(server) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
            try:
                scratch_dsn = make_conninfo(server, dbname=scratch)
                try:
                    self._restore_into(restored / manifest.details["dump"], scratch_dsn, clean=False)
                except BackupError as exc:
                    return [f"scratch database {scratch}: {exc}"]
                actual = self._stats_of(scratch_dsn)
            finally:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
                )
        return compare_stats(manifest.details["tables"], actual, f"scratch database {scratch}")

    def install(self, restored: Path, manifest: Manifest, target: str, replace: bool = False) -> str:
        """Restore into the target database (created when missing). Its dumped objects are replaced: when
        it holds any of the dumped tables with other contents, only with ``replace``."""
        name = _database_name(target)
        sql = _driver().sql
        expected = manifest.details["tables"]
        with _admin(target) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        if exists and not replace:
            current = self._stats_of(target)
            refuse_replacing(
                f"database {name}",
                [
                    table
                    for table in sorted(expected)
                    if table in current and current[table] != expected[table]
                ],
            )
        self._restore_into(restored / manifest.details["dump"], target, clean=True)
        actual = {table: stats for table, stats in self._stats_of(target).items() if table in expected}
        problems = compare_stats(expected, actual, f"database {name}")
        if problems:
            raise BackupError("the restored target differs from the backup:\n" + "\n".join(problems))
        return f"PostgreSQL database {name} ({len(manifest.details['tables'])} tables checked)"
