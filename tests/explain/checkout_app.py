"""An instrumented FastAPI service for the explain tests: a checkout that calls a model and can fail.

``POST /checkout/{order_id}`` logs, makes one LLM call (a GenAI child span with model, tokens and cost),
and answers 200, or with ``?decline=true`` raises ``PaymentDeclined`` (a 500; the server logs the
exception, so the trace has an error log record with the error's fingerprint, the same for every order).
``GET /slow`` takes 300 ms.
"""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI

import otel_ops

log = logging.getLogger("checkout")
app = FastAPI()


class PaymentDeclined(RuntimeError):
    """The payment provider declined the card."""


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "pass"}


@app.post("/checkout/{order_id}")
def checkout(order_id: int, decline: bool = False) -> dict[str, object]:
    log.info("checkout started", extra={"order.id": order_id})
    with otel_ops.llm_call(provider="openai", model="gpt-4o-mini") as call:
        call.set_usage(input_tokens=120, output_tokens=30)
    if decline:
        log.warning("payment provider refused order %s", order_id)
        raise PaymentDeclined(f"card declined for order {order_id}")
    log.info("checkout done")
    return {"order": order_id, "status": "paid"}


@app.get("/slow")
def slow() -> dict[str, str]:
    time.sleep(0.3)
    log.info("slow request served")
    return {"status": "ok"}


otel_ops.configure(app=app)
