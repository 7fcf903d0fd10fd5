"""The demo's last step: one of the errors it caused, explained from the stores as ``otel-ops explain`` does.

The most frequent error fingerprint of the run (from Prometheus) is explained with its example trace from
Jaeger (span tree) and that trace's log lines from VictoriaLogs. Traces and logs reach the stores about a
second after the metrics, so the explanation is retried until it is complete or a deadline passes.
"""

from __future__ import annotations

import time

from otel_ops.demo.report import DemoReport
from otel_ops.explain import ExplainError, Explanation, Stores, StoreUrls, explain_fingerprint

_DEADLINE_S = 20.0


def top_fingerprint(report: DemoReport) -> str | None:
    """The fingerprint of the run's most frequent error, or None when the run had none."""
    for row in report.sections.get("errors", []):
        fingerprint = row.labels.get("error_fingerprint")
        if fingerprint:
            return fingerprint
    return None


def _complete(explanation: Explanation) -> bool:
    return explanation.trace is not None and bool(explanation.logs) and not explanation.problems


def explain_top_error(report: DemoReport, urls: StoreUrls) -> Explanation | None:
    """The explanation of the run's top error (the last attempt when it never became complete)."""
    fingerprint = top_fingerprint(report)
    if fingerprint is None:
        return None
    deadline = time.monotonic() + _DEADLINE_S
    explanation: Explanation | None = None
    with Stores.connect(urls) as stores:
        while True:
            try:
                explanation = explain_fingerprint(fingerprint, stores)
            except ExplainError:
                explanation = None
            if (explanation is not None and _complete(explanation)) or time.monotonic() > deadline:
                return explanation
            time.sleep(1.0)
