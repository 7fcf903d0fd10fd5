"""Wiring ``logging``: JSON (or text) lines on stdout and OTLP export, without duplicating the app's output.

* Stream handlers the app or server already has (root, and non-propagating loggers such as uvicorn's) get
  otel-ops' formatter instead of a second handler, so every line is printed once, with correlation ids.
* The OTLP handler goes on the root logger and on non-propagating loggers (uvicorn's error log), except
  access logs: the server span already records each request.
* An app that never configured logging gets its INFO lines captured; an app's own level is kept. HTTP
  clients that log every request at INFO (httpx, httpx2) stay at WARNING then, as they were, unless the app
  set their level: one more log record per outgoing call (an httpx call is already a client span).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from otel_ops.config import _env
from otel_ops.config.settings import LogsOptions
from otel_ops.instrumentation._batch import BatchQueue
from otel_ops.instrumentation._logs import JsonFormatter, OtlpLogHandler, TextFormatter
from otel_ops.instrumentation._scrub import Scrubber

_ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access", "hypercorn.access")
_PER_REQUEST_LOGGERS = ("httpx", "httpx2")
_restore: list[tuple[logging.Handler, logging.Formatter | None]] = []
_installed_with: tuple[Any, ...] | None = None


def _stream_handlers(logger: logging.Logger) -> list[logging.Handler]:
    return [
        h
        for h in logger.handlers
        if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) in (sys.stdout, sys.stderr)
    ]


def _non_propagating() -> list[logging.Logger]:
    loggers = []
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and not logger.propagate and logger.handlers:
            loggers.append(logger)
    return loggers


def install(
    options: LogsOptions, service_name: str, scrubber: Scrubber | None, queues: list[BatchQueue[Any]]
) -> list[logging.Handler]:
    global _installed_with
    if not options.capture:
        return []
    _installed_with = (options, service_name, scrubber, queues)
    root = logging.getLogger()
    level = logging.getLevelName((options.level or "info").upper())
    explicit_level = _env.raw("OTEL_OPS_LOG_LEVEL") is not None
    if explicit_level or (root.level == logging.WARNING and not root.handlers):
        root.setLevel(level)
        if not explicit_level:
            for name in _PER_REQUEST_LOGGERS:
                library = logging.getLogger(name)
                if library.level == logging.NOTSET:
                    library.setLevel(max(level, logging.WARNING))
    added: list[logging.Handler] = []

    if options.console in ("json", "text"):
        formatter: logging.Formatter = (
            JsonFormatter(service_name, scrubber) if options.console == "json" else TextFormatter(scrubber)
        )
        targets = [root, *_non_propagating()]
        for logger in targets:
            streams = _stream_handlers(logger)
            for handler in streams:
                _restore.append((handler, handler.formatter))
                handler.setFormatter(formatter)
            if logger is root and not streams:
                console = logging.StreamHandler(sys.stdout)
                console.setFormatter(formatter)
                root.addHandler(console)
                added.append(console)

    for queue in queues:
        handler = OtlpLogHandler(
            queue,
            scrubber,
            logging.NOTSET,
            body_limit=options.body_length_limit,
            value_limit=options.attribute_value_length_limit,
        )
        root.addHandler(handler)
        added.append(handler)
        for logger in _non_propagating():
            if logger.name not in _ACCESS_LOGGERS:
                logger.addHandler(handler)
    return added


def uninstall(handlers: list[logging.Handler]) -> None:
    loggers = [logging.getLogger(), *_non_propagating()]
    for handler in handlers:
        for logger in loggers:
            if handler in logger.handlers:
                logger.removeHandler(handler)
    while _restore:
        handler, formatter = _restore.pop()
        handler.setFormatter(formatter)


def reinstall(handlers: list[logging.Handler]) -> list[logging.Handler]:
    """Put otel-ops' handlers and formatters back after the app replaced the logging configuration."""
    if _installed_with is None:
        return handlers
    uninstall(handlers)
    return install(*_installed_with)
