"""A FastAPI app mounted inside another; under ``otel-ops run`` both are instrumented."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()
api = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@api.get("/items/{item_id}")
def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


app.mount("/v1", api)
