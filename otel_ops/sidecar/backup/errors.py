"""Backup failures, each with a message that says what went wrong and what to do."""

from __future__ import annotations


class BackupError(RuntimeError):
    """A backup, verify, restore or prune step failed; the message says why."""


class ResticNotFound(BackupError):
    """The restic executable is missing."""


class RepositoryNotInitialised(BackupError):
    """No restic repository at the configured location."""


class WrongPassword(BackupError):
    """The repository password does not open the repository."""


class RepositoryCorrupt(BackupError):
    """restic found damaged or missing data in the repository."""


class NoSources(BackupError):
    """No backup source is configured."""


class UnknownSource(BackupError):
    """A source name that is not configured."""


class SnapshotNotFound(BackupError):
    """No snapshot matches the given id."""


class RestoreRefused(BackupError):
    """The restored data failed its checks; nothing was written to the target."""
