"""Drive the demo service: a mix of completions and agent runs from a few concurrent clients."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

# A request that met a connection the service had closed is sent again, up to this many times in all.
_ATTEMPTS = 3

PROMPTS = (
    "def parse_config(path):",
    "class LRUCache:",
    "# write a unit test for the tokenizer",
    "async def fetch_all(urls):",
)


@dataclass
class TrafficStats:
    """Responses seen by the generator, by status code (0 = transport error)."""

    by_status: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, status: int) -> None:
        with self.lock:
            self.by_status[status] += 1

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.by_status.items() if status == 0 or status >= 500)


def _one_request(client: httpx.Client, rng: random.Random) -> int:
    """Send one request; the status code the service answered, or 0 when it never answered."""
    if rng.random() < 0.7:
        body = {"prompt": rng.choice(PROMPTS), "max_tokens": rng.choice((64, 128, 256, 512))}
        path = "/v1/complete"
    else:
        body = {"task": "fix the failing test", "max_steps": rng.randint(2, 4)}
        path = "/v1/agent/run"
    # After an unhandled exception uvicorn closes the keep-alive connection; a request already on its way
    # over it is never answered (the client sees the connection closed or reset). The pool drops that
    # connection, so the request goes out again on a new one.
    for _ in range(_ATTEMPTS):
        try:
            return client.post(path, json=body).status_code
        except httpx.TimeoutException:
            return 0
        except httpx.TransportError:
            continue
    return 0


def run_traffic(
    base_url: str,
    duration: float,
    concurrency: int = 4,
    on_tick: Callable[[float, TrafficStats], None] | None = None,
    seed: int | None = None,
) -> TrafficStats:
    """Send requests for ``duration`` seconds, calling ``on_tick(elapsed, stats)`` ten times a second."""
    stats = TrafficStats()
    stop = threading.Event()

    def worker(index: int) -> None:
        rng = random.Random(None if seed is None else seed + index)
        with httpx.Client(base_url=base_url, timeout=10.0) as client:
            while not stop.is_set():
                stats.add(_one_request(client, rng))
                stop.wait(rng.uniform(0.0, 0.05))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        while (elapsed := time.monotonic() - start) < duration:
            if on_tick is not None:
                on_tick(elapsed, stats)
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    if on_tick is not None:
        on_tick(duration, stats)
    return stats
