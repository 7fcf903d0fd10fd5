"""FastAPI's built-in telemetry on an app otel-ops instruments: who records each request's server span and
HTTP metrics.

FastAPI (0.142 and later) traces requests and records HTTP metrics itself, into the providers named in
``FastAPI(telemetry={...})`` or else the global ones. otel-ops stands in for it exactly where it would
record into otel-ops' own providers, and nowhere else. Per request and per signal (tracing, metrics):

- FastAPI would record it into **otel-ops' provider** (the app names no provider and the global one is
  otel-ops'): FastAPI's is switched off for that request and otel-ops records it, with its lightweight
  server span, request ids, fingerprints and scrubbing; one server span per request, metrics counted once.
- FastAPI would record it into **another provider** (named by the app, or a global provider someone else
  set): FastAPI records it exactly as configured, with its operation spans, logs and
  ``fastapi.telemetry.get_telemetry_data()``; otel-ops records no span and leaves FastAPI's span and the
  request's context alone.
- FastAPI would **not** record it (``tracing``/``metrics`` set to ``False``, or the request matches the
  app's ``exclude``): neither does otel-ops. Excluded requests are left alone entirely, like otel-ops' own
  excluded paths.

Request ids (header and log lines, correlated with whichever span is current) and error counts are added
whenever the request is not excluded. The app's telemetry configuration (``app._telemetry``) is never
modified: FastAPI's runtime object is replaced by one that hands each request to FastAPI's own
implementation with the signals otel-ops covers switched off.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from opentelemetry import metrics, trace

from otel_ops.instrumentation._asgi import RECORD_METRICS, RECORD_SPAN

_SCOPE_KEY = "fastapi.telemetry"  # FastAPI's per-request state; None when its ``exclude`` matched


class SharedNativeTelemetry:
    """Stands in for FastAPI's ``NativeTelemetry`` (same ``enabled()`` and ``__call__``), and tells otel-ops'
    middleware what it records for each request."""

    def __init__(self, native: Any, tracer_provider: Any, meter_provider: Any) -> None:
        self._native = native
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        # FastAPI's runtime objects cache tracers and instruments: one per combination of covered signals
        self._variants: dict[tuple[bool, bool], Any] = {(False, False): native}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._native, name)

    @property
    def config(self) -> Any:
        return self._native.config

    def covered(self) -> tuple[bool, bool]:
        """(tracing, metrics): whether FastAPI would record that signal into otel-ops' own provider."""
        config = self._native.config
        tracing = (
            self._tracer_provider is not None
            and bool(config["tracing"])
            and (config["tracer_provider"] or trace.get_tracer_provider()) is self._tracer_provider
        )
        metering = (
            self._meter_provider is not None
            and bool(config["metrics"])
            and (config["meter_provider"] or metrics.get_meter_provider()) is self._meter_provider
        )
        return tracing, metering

    def records(self, scope: MutableMapping[str, Any]) -> int | None:
        """What otel-ops records for this request: ``RECORD_SPAN | RECORD_METRICS`` (or fewer), None when
        the app's ``exclude`` skips it."""
        if _SCOPE_KEY in scope:
            if scope[_SCOPE_KEY] is None:
                return None
        else:
            exclude = self._native.config["exclude"]
            if exclude is not None and exclude(scope):  # FastAPI's telemetry was off: it did not ask
                return None
        tracing, metering = self.covered()
        return (RECORD_SPAN if tracing else 0) | (RECORD_METRICS if metering else 0)

    def _select(self) -> Any:
        key = self.covered()
        variant = self._variants.get(key)
        if variant is None:
            tracing, metering = key
            config = dict(self._native.config)
            if tracing:
                config["tracing"] = False
            if metering:
                config["metrics"] = False
            variant = self._variants.setdefault(key, type(self._native)(config))
        return variant

    def enabled(self) -> bool:
        return bool(self._select().enabled())

    async def __call__(self, **kwargs: Any) -> None:
        await self._select()(**kwargs)


def share_native_telemetry(
    app: Any, tracer_provider: Any, meter_provider: Any
) -> SharedNativeTelemetry | None:
    """Make FastAPI's built-in telemetry on ``app`` leave to otel-ops what would go to otel-ops' providers;
    returns the object that decides per request (None for a FastAPI without built-in telemetry)."""
    native = getattr(app, "_native_telemetry", None)
    if isinstance(native, SharedNativeTelemetry):
        return native
    config = getattr(native, "config", None)
    if (
        callable(getattr(native, "enabled", None))
        and isinstance(config, dict)
        and {"tracing", "metrics", "tracer_provider", "meter_provider", "exclude"} <= config.keys()
    ):
        shared = SharedNativeTelemetry(native, tracer_provider, meter_provider)
        app._native_telemetry = shared
        return shared
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):  # built-in telemetry of a shape otel-ops does not know: kept off
        config.update(tracing=False, metrics=False, logs=False)
    return None
