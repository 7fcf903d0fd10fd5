"""Which Prometheus or Alertmanager a command talks to: its flag, else the sidecar's environment variable,
else the stack `otel-ops up` runs (on whatever port it was given), else the standard local one."""

from __future__ import annotations

import os

import typer
from rich.console import Console

from otel_ops.config._urls import url_problem
from otel_ops.explain.settings import STANDARD_PORTS, default_state_dir, stack_urls


def checked_url(url: str, component: str, given_by: str) -> str:
    """``url`` when it is an http(s) URL with a host (and a valid port); else exit 2 saying where it came
    from and how to give it."""
    if url_problem(url) is None:
        return url.strip().rstrip("/")
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/] invalid {component.capitalize()} URL {url!r} ({given_by}): give it as "
        f"http://host:port, e.g. http://127.0.0.1:{STANDARD_PORTS[component]}",
        highlight=False,
    )
    raise typer.Exit(code=2)


def component_url(component: str, flag_value: str | None, flag: str) -> str:
    """The URL of ``component`` ("prometheus" or "alertmanager") for a command."""
    if flag_value:
        return checked_url(flag_value, component, flag)
    variable = f"OTEL_OPS_{component.upper()}_URL"
    from_env = os.environ.get(variable, "").strip()
    if from_env:
        return checked_url(from_env, component, variable)
    found = stack_urls(default_state_dir(os.environ)).get(component)
    return found or f"http://localhost:{STANDARD_PORTS[component]}"
