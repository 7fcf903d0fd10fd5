"""The manifest stored at the root of every snapshot: what was backed up, with a SHA-256 per file."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST_NAME = "otel-ops-manifest.json"
FORMAT_VERSION = 1
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and p.name != MANIFEST_NAME
    )


@dataclass
class Manifest:
    source: str
    kind: str
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    host: str = ""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_directory(cls, root: Path, source: str, kind: str, host: str, details: dict[str, Any]) -> Manifest:
        files = {
            p.relative_to(root).as_posix(): {"size": p.stat().st_size, "sha256": sha256_file(p)}
            for p in _files(root)
        }
        return cls(source=source, kind=kind, host=host, files=files, details=details)

    def to_json(self) -> str:
        body = {
            "format": FORMAT_VERSION,
            "source": self.source,
            "kind": self.kind,
            "created": self.created,
            "host": self.host,
            "files": self.files,
            "details": self.details,
        }
        return json.dumps(body, indent=2, sort_keys=True) + "\n"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ManifestError(f"the snapshot has no {MANIFEST_NAME}: not an otel-ops backup") from None
        except (OSError, ValueError) as exc:
            raise ManifestError(f"unreadable manifest {path}: {exc}") from exc
        if data.get("format") != FORMAT_VERSION:
            raise ManifestError(f"manifest format {data.get('format')!r} is not supported")
        return cls(
            source=data["source"],
            kind=data["kind"],
            created=data["created"],
            host=data.get("host", ""),
            files=data["files"],
            details=data.get("details", {}),
        )

    def mismatches(self, root: Path) -> list[str]:
        """Every difference between the manifest and the files under ``root`` (empty: all match)."""
        problems: list[str] = []
        present = {p.relative_to(root).as_posix(): p for p in _files(root)}
        for name, expected in sorted(self.files.items()):
            path = present.pop(name, None)
            if path is None:
                problems.append(f"{name}: missing")
            elif path.stat().st_size != expected["size"]:
                problems.append(f"{name}: size {path.stat().st_size} != {expected['size']}")
            elif sha256_file(path) != expected["sha256"]:
                problems.append(f"{name}: SHA-256 differs")
        problems.extend(f"{name}: not in the manifest" for name in sorted(present))
        return problems


class ManifestError(ValueError):
    """A manifest is missing or cannot be read."""
