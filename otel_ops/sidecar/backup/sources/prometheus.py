"""Prometheus TSDB: an admin-API snapshot (hard links under the data dir), copied off and then removed."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from otel_ops.sidecar.backup.errors import BackupError
from otel_ops.sidecar.backup.manifest import Manifest
from otel_ops.sidecar.backup.sources.base import Source, empty_directory_target
from otel_ops.sidecar.backup.sources.tsdb_probe import fingerprint

TSDB_DIR = "tsdb"


class PrometheusSource(Source):
    kind = "prometheus"
    target_help = "a missing or empty directory to use as --storage.tsdb.path"

    def _snapshot(self, url: str) -> str:
        request = urllib.request.Request(f"{url.rstrip('/')}/api/v1/admin/tsdb/snapshot", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.settings.command_timeout_s) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            hint = " (start Prometheus with --web.enable-admin-api)" if exc.code in (404, 405) else ""
            raise BackupError(f"source {self.name}: snapshot request failed: HTTP {exc.code}{hint}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise BackupError(f"source {self.name}: Prometheus at {url} is not reachable: {exc}") from exc
        return str(payload["data"]["name"])

    def dump(self, staging: Path) -> dict[str, Any]:
        url, data_dir = self.settings.prometheus_url, self.settings.prometheus_data_dir
        if not url or not data_dir:
            raise BackupError(
                f"source {self.name}: set OTEL_OPS_BACKUP_PROMETHEUS_URL and "
                "OTEL_OPS_BACKUP_PROMETHEUS_DATA_DIR"
            )
        name = self._snapshot(url)
        snapshot = data_dir.expanduser() / "snapshots" / name
        if not snapshot.is_dir():
            raise BackupError(
                f"source {self.name}: snapshot {name} is not under {data_dir}/snapshots: "
                "OTEL_OPS_BACKUP_PROMETHEUS_DATA_DIR must be that Prometheus' --storage.tsdb.path"
            )
        try:
            shutil.copytree(snapshot, staging / TSDB_DIR)
        finally:
            shutil.rmtree(snapshot, ignore_errors=True)
        return {
            "snapshot": name,
            "fingerprint": fingerprint(staging / TSDB_DIR, self.settings.prometheus_binary),
        }

    def check(self, restored: Path, manifest: Manifest, target: str | None) -> list[str]:
        expected = manifest.details["fingerprint"]
        try:
            actual = fingerprint(restored / TSDB_DIR, self.settings.prometheus_binary)
        except (BackupError, OSError, ValueError) as exc:
            return [f"the restored TSDB cannot be queried: {exc}"]
        if actual["range_ms"] != expected["range_ms"]:
            return [f"TSDB time range {actual['range_ms']} != backed up {expected['range_ms']}"]
        return [
            f"query {query!r}: answers differ from the backed-up TSDB "
            f"({answer['series']} series / {answer['points']} points now)"
            for query, answer in actual["queries"].items()
            if answer != expected["queries"].get(query)
        ]

    def install(self, restored: Path, manifest: Manifest, target: str, replace: bool = False) -> str:
        directory = empty_directory_target(target, replace)
        shutil.copytree(restored / TSDB_DIR, directory, dirs_exist_ok=True)
        return f"Prometheus TSDB at {directory} (start Prometheus with --storage.tsdb.path={directory})"
