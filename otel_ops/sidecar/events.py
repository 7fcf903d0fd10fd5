"""In-process event bus and its Server-Sent Events stream (``GET /events``).

Event types: ``health`` (a check changed status), ``alert`` (an Alertmanager notification, an ack or a
resolve) and ``anomaly`` (an anomaly job flagged a point).  A slow subscriber loses its oldest events
rather than holding up the sidecar.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

KEEPALIVE_SECONDS = 15.0
QUEUE_SIZE = 256


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    data: dict[str, Any]

    def encode(self) -> str:
        return f"id: {self.id}\nevent: {self.type}\ndata: {json.dumps(self.data, default=str)}\n\n"


class EventBus:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop subscribers live on; ``publish`` from other threads is handed over to it."""
        self._loop = loop

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        event = Event(next(self._ids), event_type, data)
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is not loop:
            loop.call_soon_threadsafe(self._deliver, event)
        else:
            self._deliver(event)

    def _deliver(self, event: Event) -> None:
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    async def stream(self, types: set[str] | None = None) -> AsyncIterator[str]:
        """SSE text: a ``ready`` comment first, then events (filtered by type), keep-alive comments."""
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield ": connected\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if types is None or event.type in types:
                    yield event.encode()
        finally:
            self._subscribers.discard(queue)
