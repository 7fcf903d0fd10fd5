"""Zero-code start-up: configure telemetry, instrument FastAPI apps as they are created, and keep otel-ops'
log handlers in place when the server (uvicorn, gunicorn) applies its own logging configuration.

Nothing the program has not imported yet is imported here: FastAPI is instrumented when the program first
imports it, httpx and requests likewise (``_import_hooks``), so tools that care what is imported before
they start (pytest's assertion rewriting, pydantic plugins such as logfire) see the program unchanged.
"""

from __future__ import annotations

import functools
import logging.config
from types import ModuleType
from typing import Any

from otel_ops.instrumentation import _logging_setup
from otel_ops.instrumentation._fastapi import auto_instrument_fastapi
from otel_ops.instrumentation._import_hooks import when_imported
from otel_ops.instrumentation._telemetry import configure, current, disabled_instrumentations


def _reinstall_after(func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        telemetry = current()
        if telemetry is not None:
            telemetry.log_handlers = _logging_setup.reinstall(telemetry.log_handlers)
        return result

    return wrapper


def _instrument_fastapi(module: ModuleType) -> None:
    auto_instrument_fastapi()


def start() -> None:
    configure()
    if "fastapi" not in disabled_instrumentations():
        when_imported("fastapi", _instrument_fastapi)
    logging.config.dictConfig = _reinstall_after(logging.config.dictConfig)
    logging.config.fileConfig = _reinstall_after(logging.config.fileConfig)
