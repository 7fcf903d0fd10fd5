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


def test_reading_skips_lines_that_are_not_entries_whatever_they_hold(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append("acknowledge", "alice", fingerprint="ab")
    deep: object = "bottom"
    for _ in range(900):
        deep = {"deeper": deep}
    with log.path.open("ab") as handle:
        for line in (
            json.dumps({"time": "t", "action": "notification", "actor": "x", "labels": deep}).encode(),
            b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser's recursion limit
            b"[1, 2]",
            b'{"time": "t", "action": null, "actor": "x"}',
            b"\xff\xfe not text",
            b'{"time": "t", "act',
        ):
            handle.write(line + b"\n")
    log.append("resolve", "bob", fingerprint="ab")
    assert [(e["action"], e["actor"]) for e in log.read()] == [("resolve", "bob"), ("acknowledge", "alice")]
    assert [e["actor"] for e in log.read(1, fingerprint="ab")] == ["bob"]
