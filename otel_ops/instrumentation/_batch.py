"""A bounded export queue with one worker thread: the only place telemetry waits for the network.

Guarantees the host can rely on:

* ``put`` never blocks and never allocates beyond ``max_queue_size`` items; when the queue is full the
  oldest item is dropped and counted.
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
        describe_endpoint: str = "",
    ) -> None:
        self.name = name
        self._export = export
        self.max_queue_size = max_queue_size
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
        self._queue: collections.deque[T] = collections.deque()
        self._pending: list[T] | None = None  # a batch whose export failed, retried first
        self._exporting: list[T] | None = None  # the batch an export attempt is sending now
        self._backoff = 0.0
        self._wake = threading.Event()
        self._export_lock = threading.Lock()  # one export attempt at a time
        self._state_lock = threading.Lock()  # an attempt's outcome against shutdown's final count
        self._stopped = False
        self._pid = os.getpid()
        self._worker = threading.Thread(target=self._run, name=f"otel-ops-{self.name}-export", daemon=True)
        self._worker.start()

    # -- hot path ----------------------------------------------------------------------------------------
    def put(self, item: T) -> None:
        if self._stopped:
            self.drops.shutdown += 1
            return
        queue = self._queue
        if len(queue) >= self.max_queue_size:
            queue.popleft()
            self.drops.queue_full += 1
            self._warn(
                "otel-ops: %s queue full (%d items); dropping the oldest (%d dropped so far). "
                "Is the collector at %s reachable?",
                self.name,
                self.max_queue_size,
                self.drops.total(),
                self._endpoint,
            )
        queue.append(item)
        if len(queue) >= self._max_batch and not self._backoff and not self._wake.is_set():
            self._wake.set()

    def __len__(self) -> int:
        return len(self._queue) + len(self._pending or ())

    # -- worker ------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self._backoff or self._delay)
            self._wake.clear()
            if self._stopped:
                break
            self._drain(deadline=None)

    def _take_batch(self) -> list[T]:
        if self._pending is not None:
            batch, self._pending = self._pending, None
            return batch
        queue = self._queue
        count = min(self._max_batch, len(queue))
        return [queue.popleft() for _ in range(count)]

    def _drain(self, deadline: float | None) -> bool:
        """Export until the queue is empty; False if an attempt failed (then the rest waits) or ``deadline``
        passed, also while waiting for an export the worker has in progress."""
        wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._export_lock.acquire(timeout=wait):
            return False
        try:
            token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
            try:
                while self._pending is not None or self._queue:
                    if deadline is not None and time.monotonic() >= deadline:
                        return False
                    with self._state_lock:
                        if self._stopped:
                            return False
                        batch = self._exporting = self._take_batch()
                    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                    try:
                        outcome = self._export(batch, timeout)
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

    def _settle(self, batch: list[T], outcome: Outcome) -> bool:
        """Account for one attempt's ``batch``; False when draining should stop."""
        with self._state_lock:
            self._exporting = None
            if self._stopped:  # shutdown stopped waiting for this attempt and counted the batch as dropped
                return False
            if outcome is Outcome.SUCCESS:
                self.exported += len(batch)
                self._backoff = 0.0
                return True
            if outcome is Outcome.DROP:
                self.drops.export_failed += len(batch)
                return True
            self._retry_later(batch)
            return False

    def _retry_later(self, batch: list[T]) -> None:
        # Keep the failed batch, but never more than max_queue_size items in all.
        overflow = len(batch) + len(self._queue) - self.max_queue_size
        if overflow > 0:
            del batch[:overflow]
            self.drops.queue_full += overflow
        self._pending = batch
        self._backoff = min(_MAX_BACKOFF_S, max(_MIN_BACKOFF_S, self._backoff * 2))
        self._warn(
            "otel-ops: cannot export %s to %s; retrying with backoff, keeping at most %d items "
            "(%d dropped so far)",
            self.name,
            self._endpoint,
            self.max_queue_size,
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
            left = len(self) + len(self._exporting or ())
            self._queue.clear()
            self._pending = None
            self.drops.shutdown += left
        self._wake.set()
        if left:
            _logger.warning(
                "otel-ops: %d %s not exported at shutdown (endpoint %s unreachable)",
                left,
                self.name,
                self._endpoint,
            )
        return delivered and not left
