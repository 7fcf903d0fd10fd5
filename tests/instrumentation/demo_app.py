"""A small FastAPI service used by the tests: normal, failing, logging, LLM-calling and calling-out routes."""

from __future__ import annotations

import logging
import os

import httpx
from fastapi import FastAPI, HTTPException
from opentelemetry import baggage, trace

import otel_ops

log = logging.getLogger("demo")
app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/items/{item_id}")
def item(item_id: int) -> dict[str, int]:
    log.info("loading item %s", item_id, extra={"item.id": item_id})
    return {"id": item_id}


@app.get("/secret")
def secret() -> dict[str, str]:
    log.warning("calling the provider with api key sk-live-ABCDEFGHIJKLMNOPQRSTUV1234 for user 7")
    return {"ok": "yes"}


@app.get("/context")
def context() -> dict[str, object]:
    span_context = trace.get_current_span().get_span_context()
    return {"trace_id": format(span_context.trace_id, "032x"), "baggage": dict(baggage.get_all())}


@app.get("/missing")
def missing() -> None:
    raise HTTPException(status_code=404, detail="nope")


@app.get("/fail/{n}")
def fail(n: int) -> None:
    raise RuntimeError(f"database row {n} is locked by tx 0x{n:08x}")


@app.get("/llm")
async def llm() -> dict[str, float | None]:
    async with otel_ops.llm_call(provider="openai", model="gpt-4o-mini") as call:
        call.first_chunk()
        call.set_usage(input_tokens=1200, output_tokens=300)
    with otel_ops.agent_run("planner"):
        pass
    return {"cost": call.cost_usd}


@app.get("/call-out")
def call_out() -> dict[str, str]:
    response = httpx.get(os.environ["DOWNSTREAM_URL"])
    return {"downstream": response.text}


if os.environ.get("DEMO_CONFIGURE", "1") == "1":
    otel_ops.configure(app=app)
