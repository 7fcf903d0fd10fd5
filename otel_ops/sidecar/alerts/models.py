"""Request and response bodies of ``/api/v1/alerts`` (errors: :mod:`otel_ops.sidecar.api_errors`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AckRequest(BaseModel):
    author: str = Field(min_length=1, description="Who acknowledges (silence createdBy).")
    comment: str = Field(min_length=1, description="Why; becomes the silence comment.")
    expires: str = Field(
        "2h",
        description="How long the acknowledgement lasts, 1 minute to 90 days: a duration ('30m', '2h', "
        "'1d', '1h30m') or an ISO-8601 time in that range.",
    )


class ResolveRequest(BaseModel):
    author: str = Field(min_length=1)
    comment: str = ""


class AlertSummary(BaseModel):
    fingerprint: str | None
    alertname: str | None
    state: str | None = Field(description="Alertmanager's state: active, suppressed or unprocessed.")
    labels: dict[str, str]
    annotations: dict[str, str]
    silencedBy: list[str]
    inhibitedBy: list[str]
    startsAt: str | None
    endsAt: str | None
    updatedAt: str | None
    generatorURL: str | None
    receivers: list[str | None]
    exemplarTraceId: str | None = Field(description="From the alert's last firing notification.")
    topErrorFingerprint: str | None = Field(description="From the alert's last firing notification.")


class AlertList(BaseModel):
    alerts: list[AlertSummary]


class Acknowledgement(BaseModel):
    fingerprint: str
    silenceId: str = Field(description="The silence that acknowledges the alert.")
    expiresAt: str = Field(description="When the acknowledgement ends (UTC, ISO-8601).")
    outcome: Literal["created", "extended", "existing"] = Field(
        description="created: a new silence (201); extended: the existing one lasts until the later "
        "expiry asked for; existing: the alert was already acknowledged at least that long (both 200)."
    )
    acknowledgedBy: str = Field(description="Who the silence names: the acknowledger that last changed it.")


class Resolution(BaseModel):
    fingerprint: str
    resolvedAt: str
    expiredSilences: list[str]


class HistoryEntry(BaseModel):
    """An audit log entry; fields beyond these depend on the action."""

    model_config = ConfigDict(extra="allow")

    time: str
    action: str = Field(description="acknowledge, resolve or notification.")
    actor: str


class History(BaseModel):
    entries: list[HistoryEntry]


class WebhookReceipt(BaseModel):
    received: int = Field(description="Alerts recorded from the notification.")
