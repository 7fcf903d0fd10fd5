"""Zero-code start-up: configure telemetry, instrument FastAPI apps as they are created, and keep otel-ops'
log handlers in place when the server (uvicorn, gunicorn) applies its own logging configuration."""

from __future__ import annotations

import functools
import logging.config
from typing import Any

from otel_ops.instrumentation import _logging_setup
from otel_ops.instrumentation._fastapi import auto_instrument_fastapi
from otel_ops.instrumentation._telemetry import configure, current


def _reinstall_after(func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        telemetry = current()
        if telemetry is not None:
            telemetry.log_handlers = _logging_setup.reinstall(telemetry.log_handlers)
        return result

    return wrapper


def start() -> None:
    configure()
    auto_instrument_fastapi()
    logging.config.dictConfig = _reinstall_after(logging.config.dictConfig)
    logging.config.fileConfig = _reinstall_after(logging.config.fileConfig)
