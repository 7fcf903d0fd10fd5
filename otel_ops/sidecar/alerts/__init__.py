"""Alert handling on top of Alertmanager's v2 API: list, acknowledge (silence), resolve, history."""

from otel_ops.sidecar.alerts.client import AlertmanagerClient, AlertmanagerError
from otel_ops.sidecar.alerts.expiry import ExpiryError, parse_expiry
from otel_ops.sidecar.alerts.service import AlertRequestError, AlertService, summarize

__all__ = [
    "AlertRequestError",
    "AlertService",
    "AlertmanagerClient",
    "AlertmanagerError",
    "ExpiryError",
    "parse_expiry",
    "summarize",
]
