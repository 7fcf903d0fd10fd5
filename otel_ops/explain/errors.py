"""What can go wrong while explaining, each with the exit code the command ends with.

* :class:`InvalidArgument` (exit 2): the input itself is wrong (a malformed trace id, a bad duration).
* :class:`NotFound` (exit 1): the stores answered, but what was asked for is not in them.
* :class:`StoreUnavailable` (exit 1): a store could not be reached or answered something unusable; the
  message names the store and its URL and ``hint`` says what to do.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_BAD_ARGUMENTS = 2


class ExplainError(Exception):
    exit_code = EXIT_PROBLEM

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  {self.hint}" if self.hint else self.message


class InvalidArgument(ExplainError):
    exit_code = EXIT_BAD_ARGUMENTS


class NotFound(ExplainError):
    """The stores were asked and none has it."""


class StoreUnavailable(ExplainError):
    """``store`` at ``url`` could not be reached, or answered with an error or an unreadable body."""

    def __init__(self, store: str, url: str, detail: str, hint: str = "") -> None:
        super().__init__(f"{store} at {url}: {detail}", hint or default_hint(store))
        self.store = store
        self.url = url
        self.detail = detail


_LOCAL = frozenset({"Jaeger", "VictoriaLogs", "Prometheus", "Alertmanager"})
_FLAGS = {
    "Jaeger": ("--jaeger-url", "OTEL_OPS_JAEGER_URL"),
    "VictoriaLogs": ("--victorialogs-url", "OTEL_OPS_VICTORIALOGS_URL"),
    "Tempo": ("--tempo-url", "OTEL_OPS_TEMPO_URL"),
    "Loki": ("--loki-url", "OTEL_OPS_LOKI_URL"),
    "Prometheus": ("--prometheus-url", "OTEL_OPS_PROMETHEUS_URL"),
    "Alertmanager": ("--alertmanager-url", "OTEL_OPS_ALERTMANAGER_URL"),
}


def default_hint(store: str) -> str:
    """What to do when ``store`` cannot be reached: start it, or say where it runs."""
    flag, env = _FLAGS.get(store, ("", ""))
    where = f", or point {flag} (or {env}) at where it runs" if flag else ""
    if store in _LOCAL:
        return (
            f"Is the local stack running? Start it with `otel-ops up` (check with `otel-ops status`){where}."
        )
    return f"Is {store} running and reachable from here? Start it{where}."
