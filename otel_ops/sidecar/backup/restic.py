"""A thin wrapper around the restic command line; every failure becomes a clear :class:`BackupError`."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from otel_ops.sidecar.backup.errors import (
    BackupError,
    RepositoryCorrupt,
    RepositoryNotInitialised,
    ResticNotFound,
    SnapshotNotFound,
    WrongPassword,
)
from otel_ops.sidecar.backup.settings import BackupSettings

#: restic environment variables that would override what the settings say.
_OVERRIDDEN_ENV = ("RESTIC_PASSWORD", "RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND", "RESTIC_REPOSITORY")
_REMOTE_SCHEMES = {"sftp", "rest", "s3", "b2", "azure", "gs", "swift", "rclone"}
_CORRUPTION_MARKERS = (
    "repository contains errors",
    "ciphertext verification failed",
    "does not match",
    "pack file cannot be listed",
    "unexpected eof",
    "errors were found",
)


@dataclass(frozen=True)
class Snapshot:
    id: str
    short_id: str
    time: datetime
    host: str
    tags: tuple[str, ...]

    def tag_value(self, key: str) -> str | None:
        prefix = f"{key}:"
        return next((t[len(prefix) :] for t in self.tags if t.startswith(prefix)), None)

    @property
    def source(self) -> str | None:
        return self.tag_value("source")

    @property
    def kind(self) -> str | None:
        return self.tag_value("kind")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            id=data["id"],
            short_id=data.get("short_id", data["id"][:8]),
            time=_parse_time(data["time"]),
            host=data.get("hostname", ""),
            tags=tuple(data.get("tags") or ()),
        )


def _parse_time(text: str) -> datetime:
    """restic's RFC 3339 times carry nanoseconds; Python keeps microseconds."""
    text = text.replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(text)


class Restic:
    """One restic repository as configured by :class:`BackupSettings`."""

    def __init__(self, settings: BackupSettings) -> None:
        self.settings = settings

    # -- plumbing ------------------------------------------------------------------------------------------
    def binary(self) -> str:
        found = shutil.which(self.settings.restic_binary)
        if found is None:
            raise ResticNotFound(
                f"restic not found ({self.settings.restic_binary!r}): install it (apt-get install restic) "
                "or set OTEL_OPS_BACKUP_RESTIC_BINARY"
            )
        return found

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _OVERRIDDEN_ENV}
        env["RESTIC_REPOSITORY"] = self.settings.repository_location
        env["RESTIC_CACHE_DIR"] = str(self.settings.restic_cache_dir)
        if self.settings.password is not None:
            env["RESTIC_PASSWORD"] = self.settings.password.get_secret_value()
        else:
            path = self.settings.password_path
            if not path.is_file():
                raise RepositoryNotInitialised(
                    f"no repository password: {path} does not exist. Run `otel-ops backup init` to create "
                    "the repository and a password, or set OTEL_OPS_BACKUP_PASSWORD / "
                    "OTEL_OPS_BACKUP_PASSWORD_FILE"
                )
            env["RESTIC_PASSWORD_FILE"] = str(path)
        return env

    def run(
        self, args: Sequence[str], *, cwd: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [self.binary(), "--no-lock" if args[0] in {"snapshots", "ls", "cat"} else "", *args]
        command = [part for part in command if part]
        try:
            result = subprocess.run(
                command,
                cwd=cwd,
                env=self._env(),
                capture_output=True,
                text=True,
                timeout=self.settings.command_timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BackupError(f"restic {args[0]} timed out after {exc.timeout:.0f} s") from exc
        if check and result.returncode != 0:
            raise self.classify(args[0], result.stderr or result.stdout)
        return result

    def classify(self, verb: str, output: str) -> BackupError:
        """The :class:`BackupError` subclass matching restic's error output."""
        text = output.strip()
        lower = text.lower()
        location = self.settings.repository_location
        if "wrong password" in lower or "no key found" in lower:
            return WrongPassword(f"wrong password for the restic repository at {location}")
        if "is there a repository at the following location" in lower or (
            "unable to open config file" in lower and "no such file" in lower
        ):
            return RepositoryNotInitialised(
                f"no restic repository at {location}: run `otel-ops backup init` first"
            )
        if "no matching id found" in lower or "no snapshot found" in lower:
            return SnapshotNotFound(f"snapshot not found: {_last_lines(text)}")
        if any(marker in lower for marker in _CORRUPTION_MARKERS):
            return RepositoryCorrupt(
                f"restic {verb}: the repository at {location} is damaged:\n{_last_lines(text)}"
            )
        return BackupError(f"restic {verb} failed: {_last_lines(text)}")

    # -- commands ------------------------------------------------------------------------------------------
    def is_local(self) -> bool:
        location = self.settings.repository_location
        scheme = location.split(":", 1)[0]
        return ":" not in location or scheme not in _REMOTE_SCHEMES

    def init(self) -> Path | None:
        """Create the repository; generate a password file when no password is configured.

        Returns the password file written, if any.
        """
        location = self.settings.repository_location
        if self.is_local() and (Path(location) / "config").exists():
            raise BackupError(f"a restic repository already exists at {location}")
        self.binary()
        written: Path | None = None
        if self.settings.password is None and not self.settings.password_path.exists():
            path = self.settings.password_path
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
            written = path
        if self.is_local():
            Path(location).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.run(["init"])
        except BackupError:
            if written is not None:
                written.unlink()
            raise
        return written

    def backup(self, directory: Path, tags: Sequence[str]) -> str:
        """Back up the contents of ``directory`` (stored at the snapshot root); returns the snapshot id."""
        args = ["backup", "--json", "--host", self.settings.host]
        for tag in tags:
            args += ["--tag", tag]
        result = self.run([*args, "."], cwd=directory)
        for line in reversed(result.stdout.splitlines()):
            if '"summary"' in line:
                return str(json.loads(line)["snapshot_id"])
        raise BackupError(f"restic backup printed no summary: {_last_lines(result.stdout)}")

    def snapshots(self, tags: Sequence[str] = ()) -> list[Snapshot]:
        args = ["snapshots", "--json"]
        for tag in tags:
            args += ["--tag", tag]
        data = json.loads(self.run(args).stdout or "[]")
        return sorted((Snapshot.from_json(item) for item in data), key=lambda s: s.time)

    def snapshot(self, snapshot_id: str) -> Snapshot:
        """The snapshot whose id starts with ``snapshot_id`` ('latest' is the newest of any source)."""
        snapshots = self.snapshots()
        if snapshot_id == "latest":
            if not snapshots:
                raise SnapshotNotFound("the repository has no snapshots")
            return snapshots[-1]
        matches = [s for s in snapshots if s.id.startswith(snapshot_id)]
        if not matches:
            raise SnapshotNotFound(f"no snapshot {snapshot_id!r} (see `otel-ops backup list`)")
        if len(matches) > 1:
            raise SnapshotNotFound(f"snapshot id {snapshot_id!r} is ambiguous; give more characters")
        return matches[0]

    def check(self, read_data: bool = True, subset: str | None = None) -> str:
        args = ["check", "--quiet"]
        if subset:
            args.append(f"--read-data-subset={subset}")
        elif read_data:
            args.append("--read-data")
        result = self.run(args, check=False)
        if result.returncode != 0:
            error = self.classify("check", result.stderr + result.stdout)
            if type(error) is BackupError:
                error = RepositoryCorrupt(
                    f"restic check: the repository at {self.settings.repository_location} has errors:\n"
                    f"{_last_lines(result.stderr + result.stdout)}"
                )
            raise error
        return result.stdout

    def restore(self, snapshot_id: str, target: Path) -> None:
        self.run(["restore", "--quiet", snapshot_id, "--target", str(target)])

    def forget(self, tags: Sequence[str], keep: dict[str, int], dry_run: bool) -> list[dict[str, Any]]:
        args = ["forget", "--json", "--group-by", "host"]
        for tag in tags:
            args += ["--tag", tag]
        for option, count in keep.items():
            args += [f"--{option}", str(count)]
        if dry_run:
            args.append("--dry-run")
        output = self.run(args).stdout.strip()
        groups: list[dict[str, Any]] = json.loads(output.splitlines()[-1]) if output else []
        return groups

    def prune(self) -> None:
        self.run(["prune"])


def _last_lines(text: str, count: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-count:])
