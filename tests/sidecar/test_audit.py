"""The audit log stores what happened, never the secrets that came with it."""

from __future__ import annotations

import json
from pathlib import Path

from otel_ops.sidecar.audit import AuditLog


def test_secrets_in_audit_fields_are_redacted_and_the_rest_is_kept(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    key = "sk-proj-" + "a1" * 16
    log.append(
        "webhook",
        "alertmanager",
        fingerprint="0123abcd",
        comment=f"rotated after a leak of {key}",
        alerts=[{"labels": {"alertname": "HighErrorRate", "api_key": "plain-value-42"}}],
        source="https://ops:hunter22@alerts.example.com/hook",
    )
    line = (tmp_path / "audit.jsonl").read_text()
    for secret in (key, "plain-value-42", "hunter22"):
        assert secret not in line
    [entry] = log.read()
    assert entry["fingerprint"] == "0123abcd" and entry["action"] == "webhook"
    assert entry["comment"].startswith("rotated after a leak of ")
    assert entry["alerts"][0]["labels"]["alertname"] == "HighErrorRate"
    assert json.loads(line)["source"].startswith("https://ops:")
