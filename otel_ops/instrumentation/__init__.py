"""Instrumentation for Python services: traces, metrics and correlated JSON logs over OTLP."""

from otel_ops.instrumentation._errors import record_exception
from otel_ops.instrumentation._fastapi import auto_instrument_fastapi, instrument_asgi, instrument_fastapi
from otel_ops.instrumentation._fingerprint import fingerprint
from otel_ops.instrumentation._genai import PriceTable, agent_run, llm_call
from otel_ops.instrumentation._logs import JsonFormatter
from otel_ops.instrumentation._scrub import Scrubber
from otel_ops.instrumentation._telemetry import Telemetry, configure, current

__all__ = [
    "JsonFormatter",
    "PriceTable",
    "Scrubber",
    "Telemetry",
    "agent_run",
    "auto_instrument_fastapi",
    "configure",
    "current",
    "fingerprint",
    "instrument_asgi",
    "instrument_fastapi",
    "llm_call",
    "record_exception",
]
