"""What the library / operations split gives a service: install size and start-up cost.

Builds the wheel of this checkout, installs it into two fresh virtual environments (``pip install otel-ops``
and ``pip install 'otel-ops[ops]'``; the latter is what every service installed before the split), and
measures their site-packages (files and .pyc pip writes, no pip of their own) and wall times of
``import otel_ops``, of ``otel-ops run -- python -c pass`` and of loading the operations CLI.

    .venv/bin/python -m bench.install_footprint [--runs 15] [--append-results]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.environments import Environment, build_wheel, copy_source_tree, create_environment

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS.md"
COMMAND = ".venv/bin/python -m bench.install_footprint"


@dataclass(frozen=True)
class Footprint:
    layer: str
    distributions: int
    megabytes: float
    timings_ms: dict[str, float]


def _size_mb(directory: Path) -> float:
    total = 0
    for parent, _, names in os.walk(directory):
        total += sum((Path(parent) / name).lstat().st_size for name in names)
    return total / 1e6


def _median_ms(environment: Environment, command: list[str], cwd: Path, runs: int) -> float:
    times = []
    env = environment.env({"OTEL_SDK_DISABLED": "true"})  # start-up cost only, no export
    for _ in range(runs + 1):  # the first run warms the page cache and writes nothing we measure
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:])


def measure(layer: str, environment: Environment, cwd: Path, runs: int) -> Footprint:
    python, otel_ops = str(environment.python), str(environment.bin / "otel-ops")
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "import otel_ops": [python, "-c", "import otel_ops"],
        "otel-ops run -- python -c pass": [otel_ops, "run", "--", python, "-c", "pass"],
    }
    if layer == "ops":
        commands["import otel_ops.cli (every command but run)"] = [python, "-c", "import otel_ops.cli"]
        # Before the split `otel-ops run` went through the Typer application, like the other commands.
        commands["run through the Typer CLI (as before the split)"] = [
            python,
            "-c",
            "from otel_ops.cli import main; main()",
            *("run", "--", python, "-c", "pass"),
        ]
    timings = {name: _median_ms(environment, command, cwd, runs) for name, command in commands.items()}
    return Footprint(
        layer=layer,
        distributions=len(environment.distributions()),
        megabytes=_size_mb(environment.site_packages()),
        timings_ms=timings,
    )


def report(library: Footprint, ops: Footprint, with_cli_mb: float, runs: int) -> str:
    today = datetime.date.today().isoformat()
    paragraph = (
        f"Run {today}: the wheel of this checkout in two fresh virtual environments without pip of their own "
        "(site-packages holds otel-ops and its dependencies, with the .pyc files pip writes). "
        "`pip install 'otel-ops[ops]'` is what every service installed before the split. "
        f"Wall times are medians of {runs} runs after one warm-up, with `OTEL_SDK_DISABLED=true`; "
        "`otel-ops run` includes the started program's interpreter loading otel-ops, which also hooks "
        "FastAPI when it is installed (as it is with `[ops]`)."
    )
    lines = [
        f"## Install footprint: library vs operations layer (`{COMMAND}`)",
        "",
        textwrap.fill(paragraph, width=110, break_on_hyphens=False),
        "",
        "| | `pip install otel-ops` | `pip install 'otel-ops[ops]'` |",
        "| --- | ---: | ---: |",
        f"| distributions installed | {library.distributions} | {ops.distributions} |",
        f"| site-packages | {library.megabytes:.1f} MB | {ops.megabytes:.1f} MB |",
    ]
    for name in ops.timings_ms:
        shown = f"{library.timings_ms[name]:.0f} ms" if name in library.timings_ms else "not installed"
        lines.append(f"| {name} | {shown} | {ops.timings_ms[name]:.0f} ms |")
    cli_note = (
        f"The library with Typer and Rich (for its command line) would be {with_cli_mb:.1f} MB: Typer brings "
        "Rich, Pygments, markdown-it and pydantic. `otel-ops run` parses its arguments with the standard "
        "library instead, and Typer/Rich are in `[ops]`."
    )
    lines += ["", textwrap.fill(cli_note, width=110, break_on_hyphens=False)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="Timed runs per command.")
    parser.add_argument("--append-results", action="store_true", help=f"Append the table to {RESULTS}.")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="otel-ops-footprint-") as scratch:
        root = Path(scratch)
        wheel = build_wheel(copy_source_tree(REPO, root / "source"), root / "wheel")
        library_env = create_environment(root / "library", str(wheel))
        ops_env = create_environment(root / "ops", f"{wheel}[ops]")
        # Had Typer and Rich stayed in the core for the command line.
        with_cli = _size_mb(create_environment(root / "cli", str(wheel), "typer", "rich").site_packages())
        empty = root / "empty"
        empty.mkdir()
        library = measure("library", library_env, empty, options.runs)
        ops = measure("ops", ops_env, empty, options.runs)
    text = report(library, ops, with_cli, options.runs)
    print(text)
    if options.append_results:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write("\n" + text)


if __name__ == "__main__":
    main()
