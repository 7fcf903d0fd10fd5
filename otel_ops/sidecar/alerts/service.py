"""Alert handling on top of Alertmanager.

* **acknowledge**: a silence matching exactly the alert's labels, with author, comment and expiry (1 minute
  to 90 days).  An alert has at most one acknowledgement: acknowledging an acknowledged alert returns its
  silence (``outcome: existing``), or, when the new expiry is at least a minute later, extends it to that
  expiry with the new author and comment (``outcome: extended``; Alertmanager may give the extended silence
  a new id and expire the old one).  An acknowledgement is never shortened: resolve the alert to end it.
  Concurrent acknowledgements of one alert are serialised in the process, and races between processes are
  settled in Alertmanager (:mod:`otel_ops.sidecar.alerts.silences`).
* **resolve**: the alert is posted again with ``endsAt`` = now, so Alertmanager marks it resolved at once
  (and sends resolved notifications), and the acknowledgement silences that match exactly its labels are
  expired, so a recurrence notifies again.  If the source (a Prometheus rule) still fires, Prometheus
  re-sends the alert and it becomes active again: resolving cannot hide a live problem.  Only expiring the
  silence would leave the alert active until its source stopped, which is not "resolved".
* **history**: the audit log (acks, resolves, Alertmanager notifications).
"""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
import weakref
from typing import Any

from otel_ops.sidecar.alerts import silences
from otel_ops.sidecar.alerts.client import AlertmanagerClient
from otel_ops.sidecar.alerts.expiry import MIN_ACK, parse_expiry
from otel_ops.sidecar.alerts.webhook import WebhookPayload
from otel_ops.sidecar.audit import AuditLog
from otel_ops.sidecar.events import EventBus

MIN_FINGERPRINT_PREFIX = 4


class AlertRequestError(ValueError):
    """A bad request: ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        """400: the request cannot be carried out as asked (an ambiguous fingerprint); 404: no such alert;
        422: a field's value is invalid."""
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


class AlertService:
    def __init__(self, client: AlertmanagerClient, audit: AuditLog, events: EventBus | None = None) -> None:
        self.client = client
        self.audit = audit
        self.events = events
        self._ack_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

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
        hint = (
            f" (a prefix needs at least {MIN_FINGERPRINT_PREFIX} characters)"
            if len(wanted) < MIN_FINGERPRINT_PREFIX
            else ""
        )
        raise AlertRequestError(f"no active alert with fingerprint {fingerprint!r}{hint}", status=404)

    def _ack_lock(self, fingerprint: str) -> asyncio.Lock:
        """One lock per alert while anyone waits for it (acknowledgements of one alert take turns)."""
        lock = self._ack_locks.get(fingerprint)
        if lock is None:
            lock = self._ack_locks[fingerprint] = asyncio.Lock()
        return lock

    async def acknowledge(
        self, fingerprint: str, *, author: str, comment: str, expires: str, now: dt.datetime | None = None
    ) -> dict[str, Any]:
        """The alert's acknowledgement, created, extended or as it was (``outcome``)."""
        author, comment = author.strip(), comment.strip()
        if not author:
            raise AlertRequestError("author must not be empty", status=422)
        if not comment:
            raise AlertRequestError(
                "comment must not be empty: say why the alert is acknowledged", status=422
            )
        now = now or dt.datetime.now(dt.UTC)
        try:
            expires_at = parse_expiry(expires, now)
        except ValueError as exc:
            raise AlertRequestError(str(exc), status=422) from None
        alert = await self.find(fingerprint)
        labels = dict(alert.get("labels") or {})
        async with self._ack_lock(alert["fingerprint"]):
            current = next(iter(await silences.acknowledgements(self.client, labels)), None)
            wanted = {"endsAt": expires_at.isoformat(), "createdBy": author, "comment": comment}
            if current is None:
                created = await self.client.create_silence(
                    {"matchers": silences.exact_matchers(labels), "startsAt": now.isoformat(), **wanted}
                )
                current = await silences.settle(self.client, labels) or await self.client.silence(created)
                outcome = "created"
            elif expires_at - silences.timestamp(current["endsAt"]) >= MIN_ACK:
                fields = {key: current[key] for key in ("id", "matchers", "startsAt")}
                replaced = await self.client.create_silence({**fields, **wanted})
                current = await silences.settle(self.client, labels) or await self.client.silence(replaced)
                outcome = "extended"
            else:
                outcome = "existing"
        silence_id = str(current["id"])
        ends_at = silences.timestamp(current["endsAt"]).isoformat()
        record = self.audit.append(
            "acknowledge",
            author,
            fingerprint=alert["fingerprint"],
            alertname=labels.get("alertname"),
            labels=labels,
            comment=comment,
            silence_id=silence_id,
            expires_at=ends_at,
            outcome=outcome,
        )
        self._publish(record)
        return {
            "fingerprint": alert["fingerprint"],
            "silenceId": silence_id,
            "expiresAt": ends_at,
            "outcome": outcome,
            "acknowledgedBy": current.get("createdBy") or author,
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
            if silences.is_exact_silence(silence, labels):
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

    def record_notification(
        self, payload: WebhookPayload, remote: str, pointers: builtins.list[dict[str, Any]] | None = None
    ) -> int:
        """An Alertmanager webhook notification: one audit entry and one event per alert in it, with the
        alert's ``pointers`` (exemplar trace id, top error fingerprint) when given."""
        for index, alert in enumerate(payload.alerts):
            found = pointers[index] if pointers and index < len(pointers) else {}
            record = self.audit.append(
                "notification",
                "alertmanager",
                remote=remote,
                receiver=payload.receiver,
                group_key=payload.groupKey,
                status=alert.status,
                fingerprint=alert.fingerprint,
                alertname=alert.labels.get("alertname"),
                labels=alert.labels,
                annotations=alert.annotations,
                starts_at=alert.startsAt,
                ends_at=alert.endsAt,
                exemplar_trace_id=found.get("exemplar_trace_id"),
                top_error_fingerprint=found.get("top_error_fingerprint"),
            )
            self._publish(record)
        return len(payload.alerts)

    def history(self, limit: int = 100, fingerprint: str | None = None) -> builtins.list[dict[str, Any]]:
        return self.audit.read(limit, fingerprint=fingerprint)
