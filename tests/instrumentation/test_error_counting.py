"""An error crossing several recorded spans (LLM call, agent run, request) is one error with one print."""

from __future__ import annotations

from tests.instrumentation.conftest import run_python, service_env

SCRIPT = """
import otel_ops
otel_ops.configure()

def call_model():
    with otel_ops.llm_call(provider="openai", model="gpt-4o"):
        raise ConnectionError("upstream 10.0.0.7 refused")

for _ in range(3):
    try:
        with otel_ops.agent_run("fixer"):
            call_model()
    except ConnectionError:
        pass
otel_ops.shutdown()
"""


def test_nested_recording_counts_once_with_one_fingerprint(sink):
    run_python(SCRIPT, service_env(sink))
    spans = sink.spans()
    prints = {s["attributes"]["error.fingerprint"] for s in spans}
    assert len(prints) == 1, spans
    errors = [m for m in sink.metrics() if m["name"] == "app.errors"][-1]["points"]
    assert [p["value"] for p in errors] == [3]
    assert errors[0]["attributes"] == {"error.type": "ConnectionError", "error.fingerprint": prints.pop()}
