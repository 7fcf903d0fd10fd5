"""Start a command with otel-ops loaded at interpreter start-up: what ``otel-ops run`` does.

Like ``opentelemetry-instrument``: the command runs with otel-ops loaded in every Python process it starts
(``uvicorn --workers`` spawns included); FastAPI apps are instrumented as they are created. The options only
set the standard environment variables, so the same settings work with and without ``otel-ops run``.
Needs nothing beyond the library itself.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

from otel_ops.config._urls import url_problem

_AUTO_DIR = Path(__file__).resolve().parent / "instrumentation" / "_auto"
PROTOCOLS = ("http/protobuf", "grpc")


class LaunchError(Exception):
    """The command cannot be started; ``exit_code`` is what ``otel-ops run`` exits with."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def launch(
    command: list[str],
    service_name: str | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
) -> NoReturn:
    """Replace this process with ``command`` running instrumented; :class:`LaunchError` when it cannot."""
    if not command:
        raise LaunchError(
            "otel-ops run: give the command to run after '--', e.g. otel-ops run -- uvicorn app:app", 2
        )
    if protocol is not None and protocol not in PROTOCOLS:
        raise LaunchError(f"otel-ops run: --protocol must be http/protobuf or grpc, not {protocol!r}", 2)
    if endpoint is not None:
        problem = url_problem(endpoint)
        if problem:
            raise LaunchError(
                f"otel-ops run: --endpoint {endpoint!r} {problem}: give it as http://host:port with a port "
                "1-65535 (e.g. http://localhost:4318)",
                2,
            )
    executable = shutil.which(command[0])
    if executable is None:
        raise LaunchError(
            f"otel-ops run: command not found: {command[0]!r} (is it installed and on PATH?)", 127
        )
    env = dict(os.environ)
    env["OTEL_OPS_AUTO"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_AUTO_DIR), env.get("PYTHONPATH", "")) if p)
    for name, value in (
        ("OTEL_SERVICE_NAME", service_name),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
    ):
        if value is not None:
            env[name] = value
    os.execvpe(executable, command, env)
