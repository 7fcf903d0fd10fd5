"""``import otel_ops`` is cheap: its public names load their modules on first use."""

from __future__ import annotations

import json
import subprocess
import sys

import otel_ops


def _loaded_after(code: str) -> list[str]:
    probe = f"""
import json, sys
{code}
heavy = ("opentelemetry", "otel_ops.instrumentation")
print(json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_the_run_command_and_the_package_start_without_the_sdk() -> None:
    # `otel-ops run` execs the service right away: the SDK is loaded there, not in the launcher too.
    assert _loaded_after("import otel_ops, otel_ops.launch") == []
    assert "opentelemetry.sdk.trace" in _loaded_after("import otel_ops; otel_ops.configure")


def test_every_public_name_resolves() -> None:
    for name in otel_ops.__all__:
        assert getattr(otel_ops, name) is not None, name
    assert set(otel_ops.__all__) <= set(dir(otel_ops))
    from otel_ops import TracesOptions, configure

    assert configure is otel_ops.configure and TracesOptions.__name__ == "TracesOptions"
    try:
        otel_ops.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
