"""Config-file and SQLite backups with real restic: round trips, corruption, retention, CLI errors."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from otel_ops.cli import app
from otel_ops.sidecar.backup import (
    BackupError,
    BackupMetrics,
    BackupService,
    BackupSettings,
    RestoreRefused,
)
from otel_ops.sidecar.backup.manifest import MANIFEST_NAME, Manifest, sha256_file
from otel_ops.sidecar.backup.restic import Restic

pytest.register_assert_rewrite("tests.sidecar.conftest_backup")
from tests.sidecar.conftest_backup import CONFIG_FILES, backup_env, make_settings, require  # noqa: E402

pytest_plugins = ["tests.sidecar.conftest_backup"]

runner = CliRunner()


def make_sqlite(path: Path, rows: int = 500) -> sqlite3.Connection:
    """A WAL-mode database with committed rows still in its -wal file (a raw copy would lose them)."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT, payload BLOB)")
    connection.executemany(
        "INSERT INTO events (name, payload) VALUES (?, ?)",
        [(f"e{i}", bytes([i % 256]) * 50) for i in range(rows)],
    )
    connection.commit()
    return connection


def rows_of(path: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return connection.execute("SELECT id, name, payload FROM events ORDER BY id").fetchall()


@pytest.fixture
def sqlite_service(
    tmp_path: Path, new_repository: Callable[[BackupSettings], None]
) -> tuple[BackupService, Path, sqlite3.Connection]:
    """A service backing up a WAL-mode database ``app`` whose writer connection is still open."""
    database = tmp_path / "app.db"
    writer = make_sqlite(database)
    settings = make_settings(tmp_path, sqlite={"app": database})
    new_repository(settings)
    return BackupService(settings, metrics=BackupMetrics()), database, writer


def test_config_files_round_trip_byte_identical(service: BackupService, tmp_path: Path) -> None:
    [result] = service.create(["config"])
    assert result.ok, result.error
    assert result.files == len(CONFIG_FILES) + 1

    [snapshot] = service.list("config")
    assert snapshot.source == "config" and snapshot.kind == "config"
    assert snapshot.tag_value("time") is not None

    target = tmp_path / "restored"
    restored = service.restore(snapshot.short_id, str(target))
    assert restored.ok
    root = service.settings.config_root
    originals = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    copies = sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())
    assert copies == originals
    for name in originals:
        assert sha256_file(target / name) == sha256_file(root / name), name


def test_sqlite_backup_uses_online_backup_and_restores_identical_rows(
    sqlite_service: tuple[BackupService, Path, sqlite3.Connection], tmp_path: Path
) -> None:
    service, database, writer = sqlite_service
    assert Path(f"{database}-wal").stat().st_size > 0  # rows not yet checkpointed into the main file
    expected = rows_of(database)

    [result] = service.create(["sqlite:app"])
    assert result.ok, result.error
    writer.execute("DELETE FROM events WHERE id > 10")  # later damage the restore must undo
    writer.commit()
    writer.close()

    target = tmp_path / "restore-target"
    restored = service.restore("latest", str(target), source="sqlite:app")
    assert restored.installed is not None and "app.db" in restored.installed
    assert rows_of(target / "app.db") == expected
    with contextlib.closing(sqlite3.connect(target / "app.db")) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("filename", ["app#1.db", "app?mode=memory.db", "app 100%.db"])
def test_sqlite_paths_with_uri_characters_back_up_every_row_and_leave_no_stray_file(
    tmp_path: Path, new_repository: Callable[[BackupSettings], None], filename: str
) -> None:
    source_dir = tmp_path / "data"
    source_dir.mkdir()
    database = source_dir / filename
    make_sqlite(database).close()
    settings = make_settings(tmp_path, sqlite={"app": database})
    new_repository(settings)
    service = BackupService(settings, metrics=BackupMetrics())

    [result] = service.create(["sqlite:app"])
    assert result.ok, result.error
    target = tmp_path / "restored"
    service.restore("latest", str(target), source="sqlite:app")
    assert len(rows_of(target / filename)) == 500
    # Nothing beside the database and its own -wal/-shm (reading a WAL database makes those).
    assert {p.name for p in source_dir.iterdir()} <= {filename, f"{filename}-wal", f"{filename}-shm"}


def test_restore_refuses_a_snapshot_whose_sqlite_copy_fails_integrity_check(
    sqlite_service: tuple[BackupService, Path, sqlite3.Connection], tmp_path: Path
) -> None:
    service, _, writer = sqlite_service
    writer.close()
    [result] = service.create(["sqlite:app"])
    assert result.ok

    # Corrupt the database *before* restic sees it: manifest checksums then match, only the SQLite check
    # can notice. Staged copy is replaced through a source whose dump writes garbage.
    from otel_ops.sidecar.backup.sources import sqlite as sqlite_source

    original_dump = sqlite_source.SqliteSource.dump

    def dump_then_damage(self: sqlite_source.SqliteSource, staging: Path) -> dict[str, object]:
        details = original_dump(self, staging)
        copy = staging / details["filename"]  # type: ignore[operator]
        data = bytearray(copy.read_bytes())
        data[4096:8192] = b"\xff" * 4096  # overwrite the second page (table b-tree)
        copy.write_bytes(bytes(data))
        return details

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite_source.SqliteSource, "dump", dump_then_damage)
        [damaged] = service.create(["sqlite:app"])
    assert damaged.ok

    target = tmp_path / "never-written"
    with pytest.raises(RestoreRefused, match=r"integrity_check|not a readable SQLite|row counts"):
        service.restore(damaged.snapshot_id or "", str(target))
    assert not target.exists()


def corrupt_largest_pack(repository: Path) -> Path:
    packs = sorted((repository / "data").rglob("*"), key=lambda p: p.stat().st_size if p.is_file() else -1)
    pack = packs[-1]
    pack.chmod(0o600)
    data = bytearray(pack.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    pack.write_bytes(bytes(data))
    return pack


def test_corrupted_pack_is_found_by_verify_and_refused_by_restore(
    service: BackupService, tmp_path: Path
) -> None:
    [result] = service.create(["config"])
    assert result.ok
    assert service.verify().ok

    corrupt_largest_pack(Path(service.settings.repository_location))

    verified = service.verify()
    assert not verified.ok
    assert verified.repository_check != "ok"
    assert "repository contains errors" in verified.repository_check

    target = tmp_path / "restore-target"
    with pytest.raises(RestoreRefused, match=r"ciphertext verification failed|SHA-256 differs|missing"):
        service.restore(result.snapshot_id or "", str(target))
    assert not target.exists()

    env = backup_env(service.settings)
    cli_verify = runner.invoke(app, ["backup", "verify"], env=env)
    assert cli_verify.exit_code == 1
    assert "verification failed" in cli_verify.output
    cli_restore = runner.invoke(app, ["backup", "restore", "latest", "--target", str(target)], env=env)
    assert cli_restore.exit_code == 1
    assert "refused" in cli_restore.output
    assert not target.exists()


def test_manifest_lists_every_file_and_reports_each_kind_of_mismatch(tmp_path: Path) -> None:
    root = tmp_path / "files"
    (root / "sub").mkdir(parents=True)
    for name in ("a.txt", "sub/b.txt", "sub/c.txt"):
        (root / name).write_text(name)
    manifest = Manifest.of_directory(root, "config", "config", "h", {})
    manifest.write(root / MANIFEST_NAME)
    assert sorted(manifest.files) == ["a.txt", "sub/b.txt", "sub/c.txt"]
    assert manifest.mismatches(root) == []

    (root / "a.txt").write_text("A.txt")  # same size, other content
    (root / "sub/b.txt").unlink()
    (root / "sub/c.txt").write_text("longer content")
    (root / "extra").write_text("x")
    read_back = Manifest.read(root / MANIFEST_NAME)
    assert read_back.mismatches(root) == [
        "a.txt: SHA-256 differs",
        "sub/b.txt: missing",
        "sub/c.txt: size 14 != 9",
        "extra: not in the manifest",
    ]


def test_prune_dry_run_lists_without_deleting_then_prune_deletes(service: BackupService) -> None:
    ids = []
    for _ in range(3):
        [result] = service.create(["config"])
        assert result.ok
        ids.append(result.snapshot_id)

    dry = service.prune(keep_daily=1, keep_weekly=0, keep_monthly=0, dry_run=True)
    assert sorted(s.short_id for s in dry.remove) == sorted(ids[:2])
    assert [s.short_id for s in dry.keep] == [ids[2]]
    assert [s.short_id for s in service.list()] == ids

    env = backup_env(service.settings)
    cli = runner.invoke(app, ["backup", "prune", "--keep-daily", "1", "--dry-run"], env=env)
    assert cli.exit_code == 0, cli.output
    assert "would remove 2 snapshots" in cli.output
    assert all(short_id in cli.output for short_id in ids[:2])
    assert [s.short_id for s in service.list()] == ids

    done = service.prune(keep_daily=1, keep_weekly=0, keep_monthly=0)
    assert len(done.remove) == 2
    assert [s.short_id for s in service.list()] == [ids[2]]
    assert service.verify().ok


def test_cli_create_list_restore_round_trip(backup_settings: BackupSettings, tmp_path: Path) -> None:
    env = backup_env(backup_settings)
    created = runner.invoke(app, ["backup", "create", "--source", "config"], env=env)
    assert created.exit_code == 0, created.output
    listed = runner.invoke(app, ["backup", "list"], env=env)
    assert listed.exit_code == 0 and "config" in listed.output
    target = tmp_path / "cli-restore"
    restored = runner.invoke(app, ["backup", "restore", "latest", "--target", str(target)], env=env)
    assert restored.exit_code == 0, restored.output
    for name, text in CONFIG_FILES.items():
        assert (target / name).read_text() == text
    drill = runner.invoke(app, ["backup", "drill"], env=env)
    assert drill.exit_code == 0, drill.output


def test_cli_restore_leaves_edited_files_alone_unless_forced(
    backup_settings: BackupSettings, tmp_path: Path
) -> None:
    env = backup_env(backup_settings)
    assert runner.invoke(app, ["backup", "create", "--source", "config"], env=env).exit_code == 0
    target = tmp_path / "live-config"
    restore = ["backup", "restore", "latest", "--target", str(target)]
    assert runner.invoke(app, restore, env=env).exit_code == 0
    assert runner.invoke(app, restore, env=env).exit_code == 0  # the same files again: nothing to replace

    name = next(iter(CONFIG_FILES))
    (target / name).write_text("edited by hand\n")
    refused = runner.invoke(app, restore, env=env)
    assert refused.exit_code == 1, refused.output
    assert f"holds data that differs from the snapshot ({name})" in refused.output
    assert "nothing was written" in refused.output and "--force" in refused.output
    assert (target / name).read_text() == "edited by hand\n"

    forced = runner.invoke(app, [*restore, "--force"], env=env)
    assert forced.exit_code == 0, forced.output
    assert (target / name).read_text() == CONFIG_FILES[name]


def test_sqlite_restore_over_a_changed_database_needs_replace(
    sqlite_service: tuple[BackupService, Path, sqlite3.Connection],
) -> None:
    service, database, writer = sqlite_service
    expected = rows_of(database)
    [result] = service.create(["sqlite:app"])
    assert result.ok, result.error
    writer.execute("DELETE FROM events WHERE id > 10")
    writer.commit()
    writer.close()
    with pytest.raises(BackupError, match=r"differs from the snapshot \(app\.db\); nothing was written"):
        service.restore("latest", str(database.parent), source="sqlite:app")
    assert len(rows_of(database)) == 10
    service.restore("latest", str(database.parent), source="sqlite:app", replace=True)
    assert rows_of(database) == expected


def test_cli_errors_exit_non_zero_with_a_message(backup_settings: BackupSettings, tmp_path: Path) -> None:
    env = backup_env(backup_settings)

    unknown = runner.invoke(app, ["backup", "create", "--source", "nope"], env=env)
    assert unknown.exit_code == 2
    assert "unknown backup source 'nope'" in unknown.output and "config" in unknown.output

    unknown_list = runner.invoke(app, ["backup", "list", "--source", "nope"], env=env)
    assert unknown_list.exit_code == 2
    assert "unknown backup source 'nope'" in unknown_list.output

    no_snapshot = runner.invoke(
        app, ["backup", "restore", "deadbeef", "--target", str(tmp_path / "x")], env=env
    )
    assert no_snapshot.exit_code == 2
    assert "no snapshot 'deadbeef'" in no_snapshot.output

    wrong = runner.invoke(
        app, ["backup", "list"], env={**env, "OTEL_OPS_BACKUP_PASSWORD": "not-the-password"}
    )
    assert wrong.exit_code == 1
    assert "wrong password" in wrong.output

    missing = runner.invoke(
        app, ["backup", "list"], env={**env, "OTEL_OPS_BACKUP_RESTIC_BINARY": "/nonexistent/restic"}
    )
    assert missing.exit_code == 1
    assert "restic not found" in missing.output

    other = {**env, "OTEL_OPS_BACKUP_DATA_DIR": str(tmp_path / "empty"), "OTEL_OPS_BACKUP_PASSWORD": "pw"}
    uninitialised = runner.invoke(app, ["backup", "list"], env=other)
    assert uninitialised.exit_code == 1
    assert "otel-ops backup init" in uninitialised.output

    again = runner.invoke(app, ["backup", "init"], env=env)
    assert again.exit_code == 1
    assert "already exists" in again.output

    bad_keep = runner.invoke(app, ["backup", "prune", "--keep-daily", "-1"], env=env)
    assert bad_keep.exit_code == 2


def test_init_generates_a_private_password_file(tmp_path: Path) -> None:
    require("restic")
    env = {"OTEL_OPS_BACKUP_DATA_DIR": str(tmp_path / "bk")}
    result = runner.invoke(app, ["backup", "init"], env=env)
    assert result.exit_code == 0, result.output
    password = tmp_path / "bk" / "restic-password"
    assert str(password) in result.output.replace("\n", "")
    assert password.stat().st_mode & 0o777 == 0o600
    assert len(password.read_text().strip()) >= 32
    assert (tmp_path / "bk" / "repository" / "config").is_file()
    settings = BackupSettings(data_dir=tmp_path / "bk")
    assert Restic(settings).snapshots() == []  # the generated password opens the repository
