"""A FastAPI service for the memory-bound tests: logs lines of a requested size, and reports its export
queues (items, approximate bytes, drops) and its resident memory."""

from __future__ import annotations

import logging

import psutil
from fastapi import FastAPI

import otel_ops

log = logging.getLogger("bounded_app")
app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/log")
def log_line(size: int, q: str = "") -> dict[str, int]:
    log.info("payload %s", "x" * size)
    return {"query": len(q)}


@app.get("/stats")
def stats() -> dict[str, object]:
    telemetry = otel_ops.current()
    assert telemetry is not None
    queues = {
        name: {
            "items": len(queue),
            "bytes": getattr(queue, "queued_bytes", None),
            "max_bytes": getattr(queue, "max_queue_bytes", None),
            "dropped": queue.drops.queue_full,
        }
        for name, queue in telemetry.queues.items()
    }
    return {"queues": queues, "rss": psutil.Process().memory_info().rss}


otel_ops.configure(app=app)
