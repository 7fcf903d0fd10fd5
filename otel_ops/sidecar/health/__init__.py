"""Health checks of the pipeline's components, in the IETF health-check format."""

from otel_ops.sidecar.health.checks import build_checks
from otel_ops.sidecar.health.model import Check, CheckResult, Outcome, Status, overall
from otel_ops.sidecar.health.service import HealthService

__all__ = ["Check", "CheckResult", "HealthService", "Outcome", "Status", "build_checks", "overall"]
