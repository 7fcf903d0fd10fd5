"""GenAI calls and agent runs: semantic-convention spans and metrics, cost from the price table."""

from __future__ import annotations

import json

import pytest

from otel_ops.instrumentation._genai import PriceTable
from tests.instrumentation.conftest import run_python, service_env

GENAI_SCRIPT = """
import asyncio, otel_ops
otel_ops.configure()
with otel_ops.llm_call(provider="openai", model="gpt-4o-mini-2024-07-18") as call:
    call.first_chunk()
    call.set_usage(input_tokens=1000, output_tokens=250)
    call.set_response(model="gpt-4o-mini-2024-07-18", response_id="resp-1", finish_reasons=["stop"])

@otel_ops.llm_call(provider="anthropic", model="claude-3-5-haiku", operation="text_completion")
async def complete():
    raise TimeoutError("provider took too long")

try:
    asyncio.run(complete())
except TimeoutError:
    pass

with otel_ops.agent_run("reviewer"):
    with otel_ops.llm_call(provider="openai", model="unknown-model") as inner:
        inner.set_usage(input_tokens=10, output_tokens=5)
otel_ops.shutdown()
"""


def test_llm_calls_and_agent_runs_arrive_by_semconv(sink):
    run_python(GENAI_SCRIPT, service_env(sink))
    spans = {s["name"]: s for s in sink.wait_for(lambda: len(sink.spans()) >= 4 and sink.spans())}
    chat = spans["chat gpt-4o-mini-2024-07-18"]
    assert chat["kind"] == 3  # CLIENT
    a = chat["attributes"]
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.usage.input_tokens"] == 1000 and a["gen_ai.usage.output_tokens"] == 250
    assert a["gen_ai.response.finish_reasons"] == ["stop"]
    assert a["gen_ai.usage.cost_usd"] == pytest.approx((1000 * 0.15 + 250 * 0.60) / 1e6)
    assert "gen_ai.response.time_to_first_chunk" in a

    failed = spans["text_completion claude-3-5-haiku"]
    assert failed["status_code"] == 2 and failed["attributes"]["error.type"] == "TimeoutError"
    agent = spans["invoke_agent reviewer"]
    assert spans["chat unknown-model"]["parent_span_id"] == agent["span_id"]
    assert "gen_ai.usage.cost_usd" not in spans["chat unknown-model"]["attributes"]

    metrics = {m["name"]: m for m in sink.metrics()}
    usage = metrics["gen_ai.client.token.usage"]
    assert usage["unit"] == "{token}"
    assert usage["points"][0]["bounds"] == [float(4**i) for i in range(14)]
    types = {
        p["attributes"]["gen_ai.token.type"]: p["sum"]
        for p in usage["points"]
        if p["attributes"]["gen_ai.request.model"] == "gpt-4o-mini-2024-07-18"
    }
    assert types == {"input": 1000, "output": 250}
    duration = metrics["gen_ai.client.operation.duration"]
    assert duration["unit"] == "s" and duration["points"][0]["bounds"][0] == 0.01
    assert duration["points"][0]["bounds"][-1] == 81.92
    assert any(p["attributes"].get("error.type") == "TimeoutError" for p in duration["points"])
    cost = metrics["gen_ai.client.cost.usd"]
    assert cost["points"][0]["value"] == pytest.approx(0.0003)
    runs = metrics["gen_ai.agent.runs"]["points"]
    assert runs[0]["attributes"] == {"gen_ai.agent.name": "reviewer", "status": "ok"}


def test_price_table_prefix_match_and_file(tmp_path):
    table = PriceTable({"my-model": {"input": 1.0, "output": 2.0}})
    assert table.cost("my-model-v2", 1_000_000, 500_000) == pytest.approx(2.0)
    assert table.cost("gpt-4o-2024-08-06", 1_000_000, 0) == pytest.approx(2.5)
    assert table.cost("nobody-knows", 10, 10) is None
    file = tmp_path / "prices.json"
    file.write_text(json.dumps({"gpt-4o": [5, 15]}))
    assert PriceTable.from_file(file).cost("gpt-4o", 1_000_000, 0) == pytest.approx(5.0)


def test_bad_price_table_says_what_is_wrong(tmp_path):
    file = tmp_path / "prices.json"
    file.write_text('{"gpt-4o": "cheap"}')
    with pytest.raises(ValueError, match=r"'gpt-4o'.*USD per 1M tokens"):
        PriceTable.from_file(file)
    with pytest.raises(ValueError, match="cannot read"):
        PriceTable.from_file(tmp_path / "absent.json")


UNUSABLE_SETTINGS_SCRIPT = """
import logging, otel_ops
otel_ops.configure()
with otel_ops.llm_call(provider="openai", model="gpt-4o-mini") as call:
    call.set_usage(input_tokens=1000, output_tokens=0)
logging.getLogger("app").warning("retrying with secret-12345")
otel_ops.shutdown()
"""


@pytest.mark.parametrize("prices", ["absent.json", "broken.json", "prices.yaml"])
def test_unusable_price_table_or_scrub_pattern_is_warned_about_service_runs(sink, tmp_path, prices):
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "prices.yaml").write_text("gpt-4o-mini: [9, 9]\n: : :\n")
    env = service_env(
        sink,
        OTEL_OPS_GENAI_PRICES=str(tmp_path / prices),
        OTEL_OPS_SCRUB_PATTERNS="(unclosed;;secret-[0-9]+",
    )
    result = run_python(UNUSABLE_SETTINGS_SCRIPT, env)
    assert f"Ignoring OTEL_OPS_GENAI_PRICES='{tmp_path / prices}'" in result.stderr
    assert "using the built-in prices" in result.stderr
    assert "Ignoring OTEL_OPS_SCRUB_PATTERNS='(unclosed'" in result.stderr
    spans = sink.wait_for(lambda: sink.spans())
    assert spans[0]["attributes"]["gen_ai.usage.cost_usd"] == pytest.approx(1000 * 0.15 / 1e6)
    logs = sink.wait_for(lambda: [r for r in sink.logs() if "retrying" in str(r.get("body"))])
    assert "secret-12345" not in str(logs[0]["body"])  # the valid extra pattern still applies
