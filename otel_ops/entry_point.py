"""The ``otel-ops`` command: ``run`` from the library alone, every other command from the operations layer.

``pip install otel-ops`` is the library: the instrumentation and ``otel-ops run``. The stack, the sidecar,
the demo, backups, anomaly scoring, the Collector build and ``init`` are the operations layer,
``pip install 'otel-ops[ops]'``, built on Typer, Rich, FastAPI, uvicorn and more that a service does
not need. So ``run`` is parsed here with the standard library and starts the service without loading any
of that; the other commands go to the Typer application in :mod:`otel_ops.cli` when the operations layer
is installed, and otherwise end with one line saying how to install it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import NoReturn

from otel_ops._version import __version__
from otel_ops.launch import PROTOCOLS, LaunchError, launch

DISTRIBUTION = "otel-ops"
OPS_EXTRA = "ops"
OPS_INSTALL = "pip install 'otel-ops[ops]'"
_OPS_MARKER = re.compile(r"""extra\s*==\s*["']""" + OPS_EXTRA + r"""["']""")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: The operations layer's commands (the Typer application in :mod:`otel_ops.cli` registers exactly these).
OPS_COMMANDS = (
    "up",
    "down",
    "status",
    "demo",
    "demo-service",
    "explain",
    "collector",
    "stores",
    "sidecar",
    "alerts",
    "backup",
    "anomaly",
    "init",
)


def ops_requirements() -> list[str]:
    """The distributions of the ``ops`` extra (none when otel-ops runs from a source tree without
    installed metadata)."""
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for requirement in requirements:
        specifier, _, marker = requirement.partition(";")
        name = _NAME.match(specifier.strip())
        if name is not None and _OPS_MARKER.search(marker):
            names.append(name.group(0))
    return names


def missing_ops_requirements() -> list[str]:
    """The distributions of the ``ops`` extra that are not installed."""
    missing = []
    for name in ops_requirements():
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def version_line() -> str:
    """What ``otel-ops --version`` prints."""
    return f"otel-ops {__version__}"


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The library layer's command line: the top level (for help) and ``run``."""
    top = argparse.ArgumentParser(
        prog="otel-ops",
        description="OpenTelemetry observability pipeline for Python services.",
        epilog=(f"The other commands ({', '.join(OPS_COMMANDS)}) are the operations layer: {OPS_INSTALL}"),
    )
    top.add_argument(
        "--version", action="version", version=version_line(), help="Print the version and exit."
    )
    commands = top.add_subparsers(title="commands", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="Run a Python service instrumented by otel-ops, without code changes.",
        description="Run COMMAND with otel-ops instrumentation, e.g. otel-ops run -- uvicorn myapp:app",
    )
    run.add_argument("--service-name", metavar="NAME", help="service.name (sets OTEL_SERVICE_NAME).")
    run.add_argument(
        "--endpoint",
        metavar="URL",
        help="OTLP endpoint (sets OTEL_EXPORTER_OTLP_ENDPOINT). Default: local collector.",
    )
    run.add_argument(
        "--protocol", metavar="PROTOCOL", help=f"{' or '.join(PROTOCOLS)} (sets OTEL_EXPORTER_OTLP_PROTOCOL)."
    )
    run.add_argument(
        "command", nargs=argparse.REMAINDER, metavar="-- COMMAND ...", help="The command to run, after '--'."
    )
    return top, run


def run(args: Sequence[str]) -> NoReturn:
    """``otel-ops run [options] -- COMMAND ...`` (the arguments after ``run``)."""
    _, parser = _parser()
    options = parser.parse_args(list(args))
    command = list(options.command)
    if command[:1] == ["--"]:
        command = command[1:]
    try:
        launch(
            command, service_name=options.service_name, endpoint=options.endpoint, protocol=options.protocol
        )
    except LaunchError as exc:
        print(exc, file=sys.stderr)
        sys.exit(exc.exit_code)


def _ops_layer_missing(command: str, missing: Sequence[str]) -> NoReturn:
    detail = "" if set(missing) == set(ops_requirements()) else f" (missing: {', '.join(missing)})"
    sys.exit(
        f"otel-ops {command}: this command is part of the operations layer, which is not installed"
        f"{detail}: {OPS_INSTALL}"
    )


def _unknown(word: str) -> NoReturn:
    kind = "option" if word.startswith("-") else "command"
    print(
        f"otel-ops: no such {kind} {word!r}. Commands: run (this installation), "
        f"{', '.join(OPS_COMMANDS)} ({OPS_INSTALL}); otel-ops --help shows them.",
        file=sys.stderr,
    )
    sys.exit(2)


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["run"]:
        run(args[1:])
    if args[:1] == ["--version"]:
        print(version_line())
        sys.exit(0)
    missing = missing_ops_requirements()
    if missing:
        if not args or args[0] in ("-h", "--help"):
            _parser()[0].print_help()
            sys.exit(0 if args else 2)
        if args[0] not in OPS_COMMANDS:
            _unknown(args[0])
        _ops_layer_missing(args[0], missing)
    try:
        from otel_ops.cli import main as ops_main
    except ModuleNotFoundError as exc:
        sys.exit(
            f"otel-ops {args[0] if args else ''}: the operations layer needs {exc.name}, which is not "
            f"installed: {OPS_INSTALL}"
        )
    ops_main()


if __name__ == "__main__":
    main()
