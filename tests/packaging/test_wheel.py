"""What ``pip install otel-ops`` puts on a machine: the stack files as real files, and the library without
the operations layer's dependencies (installed or imported)."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from otel_ops.stack.files import DIRECTORIES
from tests.packaging.conftest import PROBE_FILE, PROBE_SECRETS
from tests.support.environments import Environment

# Distributions only the operations layer may bring.
OPS_ONLY = {
    "numpy",
    "apscheduler",
    "uvicorn",
    "fastapi",
    "starlette",
    "typer",
    "click",
    "rich",
    "pygments",
    "pydantic",
    "pydantic-core",
    "pydantic-settings",
    "pyyaml",
    "httpx",
    "prometheus-client",
}
# Modules `import otel_ops` and the instrumentation must not load, installed or not.
HEAVY_MODULES = ("yaml", "pydantic", "typer", "click", "rich", "numpy", "httpx", "fastapi", "uvicorn")
SKIPPED_PARTS = {"secrets", "__pycache__", ".env"}


def _stack_files(tree: Path) -> dict[str, bytes]:
    """Every file of the stack directories in ``tree`` (relative path -> content), secrets left out."""
    found = {}
    for directory in DIRECTORIES:
        for parent, _, names in os.walk(tree / directory):
            for name in names:
                path = Path(parent) / name
                relative = path.relative_to(tree)
                if not SKIPPED_PARTS & set(relative.parts) and path.suffix != ".pyc":
                    found[relative.as_posix()] = path.read_bytes()
    return found


def test_the_wheel_holds_every_stack_file_as_a_real_file_and_no_secret(
    wheel: Path, source_tree: Path
) -> None:
    expected = _stack_files(source_tree)
    assert PROBE_FILE in expected and len(expected) > 30
    prefix = "otel_ops/stack_files/"
    with zipfile.ZipFile(wheel) as archive:
        entries = {info.filename: info for info in archive.infolist() if info.filename.startswith(prefix)}
        shipped = {name.removeprefix(prefix): archive.read(info) for name, info in entries.items()}
        modes = {name.removeprefix(prefix): info.external_attr >> 16 for name, info in entries.items()}
    assert shipped == expected
    assert all(stat.S_ISREG(mode) for mode in modes.values()), "links instead of files in the wheel"
    for name, text in PROBE_SECRETS.items():
        assert name not in shipped
        assert not any(text.encode() in content for content in shipped.values())


def test_the_library_installs_none_of_the_operations_layer(library: Environment) -> None:
    installed = library.distributions()
    assert "otel-ops" in installed
    assert {"opentelemetry-sdk", "urllib3", "orjson", "psutil"} <= installed
    assert installed & OPS_ONLY == set()


def test_the_operations_layer_installs_with_the_extra(ops: Environment) -> None:
    installed = ops.distributions()
    assert {"apscheduler", "uvicorn", "typer", "rich", "pyyaml", "httpx"} <= installed
    assert "numpy" not in installed  # the anomaly detectors are plain Python


_LOADED_BY_IMPORT = f"""
import json, sys
import otel_ops
print(json.dumps({{"file": otel_ops.__file__, "loaded": [m for m in {HEAVY_MODULES!r} if m in sys.modules]}}))
"""


@pytest.mark.parametrize("layer", ["library", "ops"])
def test_importing_otel_ops_loads_no_operations_module(
    layer: str, request: pytest.FixtureRequest, empty_dir: Path
) -> None:
    environment: Environment = request.getfixturevalue(layer)
    result = environment.python_json(_LOADED_BY_IMPORT, cwd=empty_dir)
    assert isinstance(result, dict)
    assert Path(result["file"]).is_relative_to(environment.root), "imported otel_ops from the checkout"
    assert result["loaded"] == []


def test_configured_instrumentation_loads_no_operations_module(library: Environment, empty_dir: Path) -> None:
    code = f"""
import json, sys
import otel_ops
from opentelemetry import trace
otel_ops.configure(service_name="footprint")
with trace.get_tracer("t").start_as_current_span("work"):
    pass
otel_ops.shutdown(0.5)
print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))
"""
    # Nothing listens there: export fails quietly and shutdown is bounded.
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_OPS_LOG_CONSOLE": "none"}
    assert library.python_json(code, cwd=empty_dir, env=env) == []


def test_a_yaml_price_table_without_pyyaml_says_how_to_read_it(library: Environment, empty_dir: Path) -> None:
    (empty_dir / "prices.yaml").write_text("gpt-4o: [2.5, 10.0]\n")
    (empty_dir / "prices.json").write_text(json.dumps({"gpt-4o": [2.5, 10.0]}))
    code = """
import json, otel_ops
try:
    otel_ops.PriceTable.from_file("prices.yaml")
    yaml_error = None
except ValueError as exc:
    yaml_error = str(exc)
print(json.dumps({"yaml": yaml_error, "json": otel_ops.PriceTable.from_file("prices.json").lookup("gpt-4o")}))
"""
    result = library.python_json(code, cwd=empty_dir)
    assert isinstance(result, dict)
    assert "pip install pyyaml" in result["yaml"] and "JSON" in result["yaml"]
    assert result["json"] == [2.5, 10.0]
