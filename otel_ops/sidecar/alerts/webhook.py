"""Alertmanager's webhook notification (payload version 4), validated before anything is recorded.

Known fields have their Alertmanager types (labels and annotations map names to strings), so nothing a
sender nests inside them reaches the audit log.  Fields Alertmanager may add in later versions are
accepted but bounded: at most :data:`MAX_EXTRA_FIELDS` per object, nested at most :data:`MAX_EXTRA_DEPTH`
levels; they are not recorded.  The body's size is bounded by ``OTEL_OPS_MAX_BODY_BYTES``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from otel_ops.sidecar.json_shape import nesting_depth

MAX_EXTRA_FIELDS = 32
MAX_EXTRA_DEPTH = 8


class _TolerantModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _bounded_extra_fields(self) -> _TolerantModel:
        extra = self.model_extra or {}
        if len(extra) > MAX_EXTRA_FIELDS:
            raise ValueError(
                f"{len(extra)} unknown fields (at most {MAX_EXTRA_FIELDS} are accepted): "
                "is this an Alertmanager webhook notification?"
            )
        for name, value in extra.items():
            if nesting_depth(value, stop_above=MAX_EXTRA_DEPTH) > MAX_EXTRA_DEPTH:
                raise ValueError(
                    f"unknown field {name!r} nests deeper than {MAX_EXTRA_DEPTH} levels, which no "
                    "Alertmanager notification does"
                )
        return self


class WebhookAlert(_TolerantModel):
    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = Field(None, max_length=64, description="RFC 3339 time.")
    endsAt: str | None = Field(None, max_length=64, description="RFC 3339 time.")
    generatorURL: str | None = None
    fingerprint: str | None = Field(None, max_length=64)


class WebhookPayload(_TolerantModel):
    """What Alertmanager's ``webhook_configs`` receiver posts."""

    version: str | None = Field(None, max_length=16)
    groupKey: str | None = None
    truncatedAlerts: int = Field(0, ge=0)
    status: Literal["firing", "resolved"] | None = None
    receiver: str | None = None
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str | None = None
    alerts: list[WebhookAlert]
