"""A FastAPI service that puts every seeded secret everywhere an app can: log messages and arguments, log
``extra`` attributes (plain, nested, lists), handled and unhandled exceptions (message and stack trace),
span attributes, span events, recorded exceptions and span status descriptions, on SDK spans and on the
server span; it also logs the incoming request's headers and URL."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI, Request
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.trace import Status, StatusCode

import otel_ops
from tests.instrumentation.secrets_corpus import SECRETS

log = logging.getLogger("secrets_app")
tracer = trace.get_tracer("secrets_app")
app = FastAPI()


class UpstreamError(RuntimeError):
    pass


def connect(index: int) -> None:
    raise UpstreamError(f"[exc-{index}] upstream refused: {SECRETS[index].text}")


class ProviderDown(ConnectionError):
    def __init__(self, api_key: str) -> None:
        super().__init__("provider down")


def call_provider() -> None:
    # A credential written into the code: not in the message, but in the traceback's source line.
    raise ProviderDown(api_key="sk-proj-HardC0dedQm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Ks4Xa8Ue")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/logs")
def logs() -> dict[str, int]:
    for index, secret in enumerate(SECRETS):
        log.warning(f"[msg-{index}] {secret.text}")
        log.info("[arg-%d] %s", index, secret.text)
        log.info(
            "[extra-%d] attributes",
            index,
            extra={
                "detail": secret.text,
                "request": {"headers": {"authorization": secret.text}, "note": secret.text},
                "values": [secret.text, "plain"],
            },
        )
    log.info("[stack] with stack info %s", SECRETS[0].text, stack_info=True)
    return {"secrets": len(SECRETS)}


@app.get("/exceptions")
def exceptions() -> dict[str, int]:
    for index in range(len(SECRETS)):
        try:
            connect(index)
        except UpstreamError:
            log.exception("[logexc-%d] payment failed", index)
    try:
        call_provider()
    except ConnectionError:
        log.exception("[chained] provider failed")
    return {"secrets": len(SECRETS)}


@app.get("/spans")
def spans() -> dict[str, int]:
    server_span = trace.get_current_span()
    for index, secret in enumerate(SECRETS):
        server_span.set_attribute(f"app.detail.{index}", secret.text)
        server_span.add_event("retry", {"detail": secret.text, "attempt": index})
        server_span.add_event(f"retrying after {secret.text}")  # a secret in an event's name
        try:
            connect(index)
        except UpstreamError as exc:
            server_span.record_exception(exc)
            with tracer.start_as_current_span(f"span-{index}") as span:
                span.set_attribute("app.detail", secret.text)
                span.set_attribute("app.values", [secret.text, "plain"])
                span.set_attribute("http.request.header.authorization", secret.text)
                span.add_event("retry", {"detail": secret.text})
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"failed: {secret.text}"))
            with tracer.start_as_current_span(f"recorded-{index}"):
                otel_ops.record_exception(exc)  # exception event, fingerprint and status description
            with tracer.start_as_current_span(f"named-{index} {secret.text}") as span:  # in a span's name
                span.add_event(f"sent {secret.text}")
    return {"secrets": len(SECRETS)}


@app.get("/llm/{index}")
async def llm(index: int) -> dict[str, str]:
    try:
        async with otel_ops.llm_call(provider="openai", model="gpt-4o-mini"):
            connect(index)
    except UpstreamError:
        pass
    return {"ok": "yes"}


@app.get("/crash/{index}")
def crash(index: int) -> None:
    connect(index)  # unhandled: uvicorn logs "Exception in ASGI application"; the server span records it


@app.get("/reset/{token}")
def reset(token: str) -> dict[str, int]:
    return {"length": len(token)}


@app.get("/echo")
async def echo(request: Request) -> dict[str, str]:
    log.info("[echo] headers %s", dict(request.headers))
    log.info("[echo] url %s", request.url)
    log.info("[echo] query %s", request.url.query, extra={"query": dict(request.query_params)})
    return {"ok": "yes"}


otel_ops.configure(app=app)
if os.environ.get("SECRETS_APP_OWN_SPAN_PROCESSOR") == "1":  # server spans are then SDK spans
    trace.get_tracer_provider().add_span_processor(SpanProcessor())  # type: ignore[attr-defined]
