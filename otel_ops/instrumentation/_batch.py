"""A bounded export queue with one worker thread: the only place telemetry waits for the network.

Guarantees the host can rely on:

* ``put`` never blocks and never holds more than ``max_queue_size`` items nor (roughly) ``max_queue_bytes``
  bytes, counting the batch being exported and one kept for a retry; when either bound is reached the oldest
  items are dropped and counted. Each item comes with its approximate encoded size, computed by the caller.
* A failing or unreachable endpoint is retried with exponential backoff while new items keep queueing
  (bounded); one warning per minute at most, with the running drop count.
* ``flush``/``shutdown`` take a deadline: with the endpoint down they give up at the first failure instead
  of retrying, and they do not wait past it for an export the worker thread has in progress (an endpoint
  that accepts connections and never answers), so a process exits within its shutdown budget. Items of
  an export that shutdown stopped waiting for are counted as dropped at shutdown.
* After ``fork`` the child starts with an empty queue and its own worker thread.
"""

from __future__ import annotations

import collections
import enum
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, set_value

_logger = logging.getLogger("otel_ops.export")

T = TypeVar("T")

_WARN_INTERVAL_S = 60.0
_MIN_BACKOFF_S = 0.5
_MAX_BACKOFF_S = 30.0
DEFAULT_MAX_QUEUE_BYTES = 16 * 1024 * 1024


class Outcome(enum.Enum):
    """What became of one export attempt."""

    SUCCESS = "success"
    RETRY = "retry"  # transient: endpoint down, overloaded or timed out
    DROP = "drop"  # permanent: the endpoint refused the data (bad request, auth)


class DropCounts:
    """Items dropped, by reason (``error.type`` on ``otel.sdk.processor.*.processed``)."""

    __slots__ = ("export_failed", "queue_full", "shutdown")

    def __init__(self) -> None:
        self.queue_full = 0
        self.export_failed = 0
        self.shutdown = 0

    def total(self) -> int:
        return self.queue_full + self.export_failed + self.shutdown


class _RateLimitedWarning:
    def __init__(self, interval: float = _WARN_INTERVAL_S) -> None:
        self._interval = interval
        self._last = float("-inf")

    def __call__(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            _logger.warning(message, *args)


class BatchQueue(Generic[T]):
    def __init__(
        self,
        name: str,
        export: Callable[[list[T], float | None], Outcome],
        *,
        max_queue_size: int,
        max_batch_size: int,
        schedule_delay: float,
        max_queue_bytes: int | None = None,
        describe_endpoint: str = "",
    ) -> None:
        self.name = name
        self._export = export
        self.max_queue_size = max_queue_size
        self.max_queue_bytes = max_queue_bytes if max_queue_bytes is not None else DEFAULT_MAX_QUEUE_BYTES
        self._max_batch = min(max_batch_size, max_queue_size)
        self._delay = schedule_delay
        self._endpoint = describe_endpoint
        self.drops = DropCounts()
        self.exported = 0
        self._warn = _RateLimitedWarning()
        self._init_runtime()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._init_runtime)

    def _init_runtime(self) -> None:
        self._queue: collections.deque[tuple[T, int]] = collections.deque()
        self._pending: list[tuple[T, int]] | None = None  # a batch whose export failed, retried first
        self._bytes = 0  # queued, being exported and pending
        self._held = 0  # items taken out of the queue: being exported, or pending
        self._lock = threading.Lock()  # guards _queue's bounds and _bytes
        self._backoff = 0.0
        self._wake = threading.Event()
        self._export_lock = threading.Lock()  # one export attempt at a time
        self._state_lock = threading.Lock()  # an attempt's outcome against shutdown's final count
        self._stopped = False
        self._pid = os.getpid()
        self._worker = threading.Thread(target=self._run, name=f"otel-ops-{self.name}-export", daemon=True)
        self._worker.start()

    # -- hot path ----------------------------------------------------------------------------------------
    def put(self, item: T, size: int = 0) -> None:
        """Queue ``item`` of approximately ``size`` encoded bytes, dropping the oldest items beyond either
        bound."""
        if self._stopped:
            self.drops.shutdown += 1
            return
        queue = self._queue
        with self._lock:
            total = self._bytes + size
            if total <= self.max_queue_bytes and len(queue) + self._held < self.max_queue_size:
                self._bytes = total  # room for it: the common case
                queue.append((item, size))
                length = len(queue)
                dropped = 0
            else:
                length, dropped = self._make_room(item, size)
        if dropped:
            self._warn(
                "otel-ops: %s queue full (%d items or %d bytes); dropping the oldest (%d dropped so far). "
                "Is the collector at %s reachable?",
                self.name,
                self.max_queue_size,
                self.max_queue_bytes,
                self.drops.total(),
                self._endpoint,
            )
        if length >= self._max_batch and not self._backoff and not self._wake.is_set():
            self._wake.set()

    def _make_room(self, item: T, size: int) -> tuple[int, int]:
        """Under the lock: drop the oldest items until ``item`` fits, and queue it; an item larger than the
        whole byte bound is dropped instead. Returns the queue's length and the number dropped."""
        queue = self._queue
        if size > self.max_queue_bytes:
            self.drops.queue_full += 1
            return len(queue), 1
        dropped = 0
        total = self._bytes + size
        while queue and (len(queue) + self._held >= self.max_queue_size or total > self.max_queue_bytes):
            total -= queue.popleft()[1]
            dropped += 1
        self._bytes = total
        queue.append((item, size))
        self.drops.queue_full += dropped
        return len(queue), dropped

    def __len__(self) -> int:
        return len(self._queue) + self._held

    @property
    def queued_bytes(self) -> int:
        """Approximate bytes held: queued, being exported, and kept for a retry."""
        return self._bytes

    # -- worker ------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopped:
            # Woken by a full batch: export full batches and leave the rest for the next one (a tail of
            # tiny exports would cost an HTTP request each); woken by the timer: export everything.
            full_batch = self._wake.wait(self._backoff or self._delay)
            self._wake.clear()
            if self._stopped:
                break
            self._drain(deadline=None, full_batches_only=full_batch)

    def _take_batch(self) -> list[tuple[T, int]]:
        if self._pending is not None:
            batch, self._pending = self._pending, None
            return batch
        queue = self._queue
        with self._lock:
            count = min(self._max_batch, len(queue))
            self._held += count
            return [queue.popleft() for _ in range(count)]

    def _release(self, batch: list[tuple[T, int]]) -> None:
        size = sum(item_size for _, item_size in batch)
        with self._lock:
            self._bytes -= size
            self._held -= len(batch)

    def _drain(self, deadline: float | None, full_batches_only: bool = False) -> bool:
        """Export until the queue is empty (or, with ``full_batches_only``, holds less than a batch); False
        if an attempt failed (then the rest waits) or ``deadline`` passed, also while waiting for an export
        the worker has in progress."""
        wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        if wait > threading.TIMEOUT_MAX:  # a deadline so far away that it is no deadline
            wait = -1.0
        if not self._export_lock.acquire(timeout=wait):
            return False
        try:
            token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
            try:
                while self._pending is not None or self._queue:
                    if deadline is not None and time.monotonic() >= deadline:
                        return False
                    if full_batches_only and self._pending is None and len(self._queue) < self._max_batch:
                        return True
                    with self._state_lock:
                        if self._stopped:
                            return False
                        batch = self._take_batch()
                    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                    try:
                        outcome = self._export([item for item, _ in batch], timeout)
                    except Exception:  # an exporter bug must not kill the worker
                        _logger.exception("otel-ops: %s exporter raised", self.name)
                        outcome = Outcome.DROP
                    if not self._settle(batch, outcome):
                        return False
                return True
            finally:
                detach(token)
        finally:
            self._export_lock.release()

    def _settle(self, batch: list[tuple[T, int]], outcome: Outcome) -> bool:
        """Account for one attempt's ``batch``; False when draining should stop."""
        with self._state_lock:
            if self._stopped:  # shutdown stopped waiting for this attempt and counted the batch as dropped
                return False
            if outcome is Outcome.SUCCESS:
                self.exported += len(batch)
                self._release(batch)
                self._backoff = 0.0
                return True
            if outcome is Outcome.DROP:
                self.drops.export_failed += len(batch)
                self._release(batch)
                return True
            self._retry_later(batch)
            return False

    def _retry_later(self, batch: list[tuple[T, int]]) -> None:
        # Keep the failed batch, but never more than max_queue_size items nor max_queue_bytes in all: the
        # batch's oldest items go first (newer ones wait in the queue).
        with self._lock:
            overflow = len(batch) + len(self._queue) - self.max_queue_size
            dropped = max(0, overflow)
            freed = sum(item_size for _, item_size in batch[:dropped])
            while dropped < len(batch) and self._bytes - freed > self.max_queue_bytes:
                freed += batch[dropped][1]
                dropped += 1
            if dropped:
                del batch[:dropped]
                self._bytes -= freed
                self._held -= dropped
                self.drops.queue_full += dropped
        self._pending = batch or None
        self._backoff = min(_MAX_BACKOFF_S, max(_MIN_BACKOFF_S, self._backoff * 2))
        self._warn(
            "otel-ops: cannot export %s to %s; retrying with backoff, keeping at most %d items and %d bytes "
            "(%d dropped so far)",
            self.name,
            self._endpoint,
            self.max_queue_size,
            self.max_queue_bytes,
            self.drops.total(),
        )

    # -- flush and shutdown ------------------------------------------------------------------------------
    def flush(self, deadline: float) -> bool:
        """Export everything queued before ``deadline`` (monotonic); one failed attempt ends it."""
        if self._pid != os.getpid():
            return True
        return self._drain(deadline)

    def shutdown(self, deadline: float) -> bool:
        """Flush until ``deadline``, stop the worker, and count what could not be sent as dropped (including
        an export still in progress at the deadline)."""
        delivered = self.flush(deadline)
        with self._state_lock:
            self._stopped = True
            left = len(self)  # queued, being exported and kept for a retry
            if left:
                self.drops.shutdown += left
                with self._lock:
                    self._queue.clear()
                    self._pending = None
                    self._bytes = 0
                    self._held = 0
        self._wake.set()
        if left:
            _logger.warning(
                "otel-ops: %d %s not exported at shutdown (endpoint %s unreachable)",
                left,
                self.name,
                self._endpoint,
            )
        return delivered and not left
