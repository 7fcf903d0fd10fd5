"""Alert handling on top of Alertmanager.

* **acknowledge**: a silence matching exactly the alert's labels, with author, comment and expiry.
* **resolve**: the alert is posted again with ``endsAt`` = now, so Alertmanager marks it resolved at once
  (and sends resolved notifications), and the acknowledgement silences that match exactly its labels are
  expired, so a recurrence notifies again.  If the source (a Prometheus rule) still fires, Prometheus
  re-sends the alert and it becomes active again: resolving cannot hide a live problem.  Only expiring the
  silence would leave the alert active until its source stopped, which is not "resolved".
* **history**: the audit log (acks, resolves, Alertmanager notifications).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from otel_ops.sidecar.alerts.client import AlertmanagerClient
from otel_ops.sidecar.alerts.expiry import parse_expiry
from otel_ops.sidecar.audit import AuditLog
from otel_ops.sidecar.events import EventBus

MIN_FINGERPRINT_PREFIX = 4


class AlertRequestError(ValueError):
    """A bad request: ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def summarize(alert: dict[str, Any]) -> dict[str, Any]:
    status = alert.get("status") or {}
    labels = alert.get("labels") or {}
    return {
        "fingerprint": alert.get("fingerprint"),
        "alertname": labels.get("alertname"),
        "state": status.get("state"),
        "labels": labels,
        "annotations": alert.get("annotations") or {},
        "silencedBy": status.get("silencedBy") or [],
        "inhibitedBy": status.get("inhibitedBy") or [],
        "startsAt": alert.get("startsAt"),
        "endsAt": alert.get("endsAt"),
        "updatedAt": alert.get("updatedAt"),
        "generatorURL": alert.get("generatorURL"),
        "receivers": [r.get("name") for r in alert.get("receivers") or []],
        "exemplarTraceId": None,
        "topErrorFingerprint": None,
    }


def _exact_matchers(labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"name": name, "value": value, "isRegex": False, "isEqual": True}
        for name, value in sorted(labels.items())
    ]


def _is_exact_silence(silence: dict[str, Any], labels: dict[str, str]) -> bool:
    matchers = silence.get("matchers") or []
    wanted = {(m["name"], m["value"]) for m in _exact_matchers(labels)}
    got = {
        (m.get("name"), m.get("value")) for m in matchers if not m.get("isRegex") and m.get("isEqual", True)
    }
    return len(matchers) == len(labels) and got == wanted


class AlertService:
    def __init__(self, client: AlertmanagerClient, audit: AuditLog, events: EventBus | None = None) -> None:
        self.client = client
        self.audit = audit
        self.events = events

    def _publish(self, data: dict[str, Any]) -> None:
        if self.events is not None:
            self.events.publish("alert", data)

    async def list(self, filters: list[str] | None = None) -> list[dict[str, Any]]:
        """Active alerts, each with the exemplar trace and top error fingerprint of its last notification."""
        alerts = [summarize(a) for a in await self.client.alerts(filters=filters)]
        pointers = self.latest_pointers()
        for alert in alerts:
            found = pointers.get(alert["fingerprint"], {})
            alert["exemplarTraceId"] = found.get("exemplar_trace_id")
            alert["topErrorFingerprint"] = found.get("top_error_fingerprint")
        return alerts

    def latest_pointers(self, limit: int = 2000) -> dict[str, dict[str, Any]]:
        """Fingerprint -> the pointers of the newest firing notification that had any (audit log)."""
        found: dict[str, dict[str, Any]] = {}
        for entry in self.audit.read(limit, action="notification"):  # newest first
            fingerprint = entry.get("fingerprint")
            if fingerprint in found or entry.get("status") != "firing":
                continue
            if entry.get("exemplar_trace_id") or entry.get("top_error_fingerprint"):
                found[str(fingerprint)] = {
                    "exemplar_trace_id": entry.get("exemplar_trace_id"),
                    "top_error_fingerprint": entry.get("top_error_fingerprint"),
                }
        return found

    async def find(self, fingerprint: str) -> dict[str, Any]:
        """The active alert with this fingerprint (or unique prefix of at least 4 characters)."""
        wanted = fingerprint.strip().lower()
        if not wanted:
            raise AlertRequestError("alert fingerprint must not be empty")
        alerts = await self.client.alerts()
        exact = [a for a in alerts if a.get("fingerprint") == wanted]
        if exact:
            return exact[0]
        if len(wanted) >= MIN_FINGERPRINT_PREFIX:
            matches = [a for a in alerts if str(a.get("fingerprint", "")).startswith(wanted)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise AlertRequestError(f"fingerprint prefix {fingerprint!r} matches {len(matches)} alerts")
        raise AlertRequestError(f"no active alert with fingerprint {fingerprint!r}", status=404)

    async def acknowledge(
        self, fingerprint: str, *, author: str, comment: str, expires: str, now: dt.datetime | None = None
    ) -> dict[str, Any]:
        author, comment = author.strip(), comment.strip()
        if not author:
            raise AlertRequestError("author must not be empty")
        if not comment:
            raise AlertRequestError("comment must not be empty: say why the alert is acknowledged")
        now = now or dt.datetime.now(dt.UTC)
        try:
            expires_at = parse_expiry(expires, now)
        except ValueError as exc:
            raise AlertRequestError(str(exc)) from None
        alert = await self.find(fingerprint)
        labels = dict(alert.get("labels") or {})
        silence_id = await self.client.create_silence(
            {
                "matchers": _exact_matchers(labels),
                "startsAt": now.isoformat(),
                "endsAt": expires_at.isoformat(),
                "createdBy": author,
                "comment": comment,
            }
        )
        record = self.audit.append(
            "acknowledge",
            author,
            fingerprint=alert["fingerprint"],
            alertname=labels.get("alertname"),
            labels=labels,
            comment=comment,
            silence_id=silence_id,
            expires_at=expires_at.isoformat(),
        )
        self._publish(record)
        return {
            "fingerprint": alert["fingerprint"],
            "silenceId": silence_id,
            "expiresAt": expires_at.isoformat(),
        }

    async def resolve(self, fingerprint: str, *, author: str, comment: str = "") -> dict[str, Any]:
        author = author.strip()
        if not author:
            raise AlertRequestError("author must not be empty")
        alert = await self.find(fingerprint)
        labels = dict(alert.get("labels") or {})
        now = dt.datetime.now(dt.UTC).isoformat()
        resolved: dict[str, Any] = {
            "labels": labels,
            "annotations": alert.get("annotations") or {},
            "endsAt": now,
        }
        if alert.get("startsAt"):
            resolved["startsAt"] = alert["startsAt"]
        if alert.get("generatorURL"):
            resolved["generatorURL"] = alert["generatorURL"]
        await self.client.post_alerts([resolved])
        expired = []
        for silence_id in (alert.get("status") or {}).get("silencedBy") or []:
            silence = await self.client.silence(silence_id)
            if _is_exact_silence(silence, labels):
                await self.client.expire_silence(silence_id)
                expired.append(silence_id)
        record = self.audit.append(
            "resolve",
            author,
            fingerprint=alert["fingerprint"],
            alertname=labels.get("alertname"),
            labels=labels,
            comment=comment.strip(),
            ends_at=now,
            expired_silences=expired,
        )
        self._publish(record)
        return {"fingerprint": alert["fingerprint"], "resolvedAt": now, "expiredSilences": expired}

    @staticmethod
    def notification_alerts(payload: dict[str, Any]) -> list[dict[str, Any]]:
        """The alerts of an Alertmanager webhook notification; AlertRequestError (422) when malformed."""
        alerts = payload.get("alerts")
        if not isinstance(alerts, list):
            raise AlertRequestError("webhook payload has no 'alerts' list", status=422)
        for alert in alerts:
            if not isinstance(alert, dict) or not isinstance(alert.get("labels"), dict):
                raise AlertRequestError("every webhook alert needs a 'labels' object", status=422)
        return alerts

    def record_notification(
        self, payload: dict[str, Any], remote: str, pointers: list[dict[str, Any]] | None = None
    ) -> int:
        """An Alertmanager webhook notification: one audit entry and one event per alert in it, with the
        alert's ``pointers`` (exemplar trace id, top error fingerprint) when given."""
        alerts = self.notification_alerts(payload)
        for index, alert in enumerate(alerts):
            found = pointers[index] if pointers and index < len(pointers) else {}
            record = self.audit.append(
                "notification",
                "alertmanager",
                remote=remote,
                receiver=payload.get("receiver"),
                group_key=payload.get("groupKey"),
                status=alert.get("status"),
                fingerprint=alert.get("fingerprint"),
                alertname=alert["labels"].get("alertname"),
                labels=alert["labels"],
                annotations=alert.get("annotations") or {},
                starts_at=alert.get("startsAt"),
                ends_at=alert.get("endsAt"),
                exemplar_trace_id=found.get("exemplar_trace_id"),
                top_error_fingerprint=found.get("top_error_fingerprint"),
            )
            self._publish(record)
        return len(alerts)

    def history(self, limit: int = 100, fingerprint: str | None = None) -> list[dict[str, Any]]:
        return self.audit.read(limit, fingerprint=fingerprint)
