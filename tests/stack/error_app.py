"""A tiny instrumented FastAPI service whose ``/fail`` answers 500: the source of an error burst."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException

import otel_ops

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "pass"}


@app.get("/ok")
def ok() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/fail")
def fail() -> dict[str, str]:
    raise HTTPException(status_code=500, detail="upstream model unavailable")


otel_ops.configure(app=app)
