"""A simulated AI coding-assistant back end, instrumented with otel-ops.

Routes: ``POST /v1/complete`` (one LLM call), ``POST /v1/agent/run`` (an agent run of several LLM calls and
tool steps) and ``GET /health``. Latency, token counts and failures are random: about one request in
twelve fails with one of a few distinct bugs (each a separate error fingerprint) and about one in fifteen is
slow, so the telemetry shows errors, outliers and costs without a real model provider.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

import otel_ops

log = logging.getLogger("otel_ops.demo")

SERVICE_NAME = "otel-ops-demo"

# (provider, model, weight): mostly cheap models, some expensive ones.
MODELS: tuple[tuple[str, str, int], ...] = (
    ("openai", "gpt-4o-mini", 5),
    ("openai", "gpt-4o", 2),
    ("anthropic", "claude-3-5-haiku", 3),
    ("anthropic", "claude-sonnet-4", 1),
)

FAILURE_RATE = 0.08
SLOW_RATE = 0.07


class ProviderRateLimited(RuntimeError):
    """The model provider answered 429: too many requests."""


class ContextWindowExceeded(ValueError):
    """The prompt plus the requested completion is longer than the model's context window."""


class ToolExecutionError(RuntimeError):
    """An agent tool (sandboxed code execution) failed."""


class CompletionRequest(BaseModel):
    prompt: str = Field(default="def fib(n):", max_length=20_000)
    language: str = "python"
    max_tokens: int = Field(default=256, ge=1, le=8192)


class AgentRequest(BaseModel):
    task: str = Field(default="fix the failing test", max_length=20_000)
    max_steps: int = Field(default=3, ge=1, le=8)


def _pick_model(rng: random.Random) -> tuple[str, str]:
    provider, model, _ = rng.choices(MODELS, weights=[w for _, _, w in MODELS])[0]
    return provider, model


async def _simulated_llm_call(rng: random.Random, prompt_tokens: int, max_tokens: int) -> dict[str, Any]:
    """One LLM call: waits like a streaming provider would and records tokens and cost."""
    provider, model = _pick_model(rng)
    async with otel_ops.llm_call(provider=provider, model=model) as call:
        await asyncio.sleep(rng.uniform(0.005, 0.03))
        if rng.random() < FAILURE_RATE / 3:
            raise ProviderRateLimited(f"'{provider}' rate limit reached for model '{model}'; retry after 20s")
        call.first_chunk()
        slow = rng.random() < SLOW_RATE
        await asyncio.sleep(rng.uniform(0.4, 1.2) if slow else rng.uniform(0.01, 0.08))
        output_tokens = rng.randint(max(1, max_tokens // 4), max_tokens)
        call.set_usage(input_tokens=prompt_tokens, output_tokens=output_tokens)
    return {"provider": provider, "model": model, "output_tokens": output_tokens, "cost_usd": call.cost_usd}


def create_app(seed: int | None = None) -> FastAPI:
    """The demo FastAPI app, instrumented with ``otel_ops.configure(app=app)``."""
    rng = random.Random(seed)
    app = FastAPI(title="otel-ops demo: AI coding assistant")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "pass"}

    @app.post("/v1/complete")
    async def complete(request: CompletionRequest) -> dict[str, Any]:
        prompt_tokens = max(1, len(request.prompt) // 4) + rng.randint(200, 3000)
        if rng.random() < FAILURE_RATE / 3:
            raise ContextWindowExceeded(
                f"prompt of {prompt_tokens} tokens plus {request.max_tokens} exceeds the context window"
            )
        result = await _simulated_llm_call(rng, prompt_tokens, request.max_tokens)
        log.info("completion served", extra={"gen_ai.request.model": result["model"]})
        return {"completion": "    return n if n < 2 else fib(n - 1) + fib(n - 2)", **result}

    @app.post("/v1/agent/run")
    async def agent(request: AgentRequest) -> dict[str, Any]:
        steps: list[dict[str, Any]] = []
        with otel_ops.agent_run("code-fixer"):
            context_tokens = rng.randint(500, 4000)
            for step in range(request.max_steps):
                result = await _simulated_llm_call(rng, context_tokens, 512)
                context_tokens += result["output_tokens"]
                if rng.random() < FAILURE_RATE / 3:
                    raise ToolExecutionError(f"sandbox exited with status 137 in step {step}: out of memory")
                await asyncio.sleep(rng.uniform(0.002, 0.02))
                steps.append(result)
        total = sum(s["cost_usd"] or 0.0 for s in steps)
        log.info("agent run finished", extra={"agent.steps": len(steps)})
        return {"steps": len(steps), "cost_usd": total}

    otel_ops.configure(service_name=SERVICE_NAME, app=app)
    return app


def serve(host: str = "127.0.0.1", port: int = 8008, seed: int | None = None) -> None:
    """Serve the demo app with uvicorn until interrupted."""
    import uvicorn

    # log_config=None: uvicorn keeps the logging otel-ops set up (its own configuration would replace the
    # handlers that send the server's error log, with trace ids, to the log store).
    uvicorn.run(create_app(seed), host=host, port=port, log_level="warning", log_config=None)
