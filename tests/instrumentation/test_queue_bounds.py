"""Export queues are bounded in bytes as well as in items: with the collector down, big telemetry pushes the
oldest out (counted as dropped), and what is held, including a batch kept for a retry, stays within the
bound."""

from __future__ import annotations

import threading

from otel_ops.instrumentation._batch import BatchQueue, Outcome


def _queue(export, batch: int = 10_000, **bounds: int) -> BatchQueue[str]:
    """A queue whose worker exports only when the test flushes, or once ``batch`` items are queued."""
    return BatchQueue("test", export, max_batch_size=batch, schedule_delay=3600, **bounds)  # type: ignore[arg-type]


def test_oldest_items_are_dropped_beyond_the_byte_bound():
    queue = _queue(lambda batch, timeout: Outcome.SUCCESS, max_queue_size=1000, max_queue_bytes=10_000)
    for i in range(50):
        queue.put(f"item-{i}", 1_000)
    assert queue.queued_bytes <= 10_000 and len(queue) == 10
    assert queue.drops.queue_full == 40
    exported: list[str] = []
    queue._export = lambda batch, timeout: exported.extend(batch) or Outcome.SUCCESS
    assert queue.flush(deadline=float("inf"))
    assert exported == [f"item-{i}" for i in range(40, 50)]  # the newest ten
    assert queue.queued_bytes == 0
    queue.shutdown(0)


def test_an_item_larger_than_the_whole_bound_is_dropped_alone():
    queue = _queue(lambda batch, timeout: Outcome.SUCCESS, max_queue_size=1000, max_queue_bytes=10_000)
    queue.put("small", 100)
    queue.put("huge", 20_000)
    assert len(queue) == 1 and queue.queued_bytes == 100 and queue.drops.queue_full == 1
    queue.shutdown(0)


def test_a_batch_kept_for_retry_counts_toward_the_bound():
    queue = _queue(lambda batch, timeout: Outcome.RETRY, max_queue_size=1000, max_queue_bytes=10_000)
    for i in range(10):
        queue.put(f"old-{i}", 1_000)
    assert not queue.flush(deadline=float("inf"))  # the collector is down: the first batch waits for a retry
    for i in range(10):
        queue.put(f"new-{i}", 1_000)
        assert queue.queued_bytes <= 10_000 + 1_000  # at most one item beyond while a batch is held
    assert not queue.flush(deadline=float("inf"))  # the retry fails again: what is held is trimmed
    assert queue.queued_bytes <= 10_000
    assert queue.drops.queue_full >= 10
    queue.shutdown(0)


def test_concurrent_producers_keep_the_byte_count_exact():
    queue = _queue(
        lambda batch, timeout: Outcome.SUCCESS, batch=4, max_queue_size=100_000, max_queue_bytes=10**12
    )

    def produce() -> None:
        for _ in range(20_000):
            queue.put("x", 3)

    threads = [threading.Thread(target=produce) for _ in range(4)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        queue.flush(deadline=float("inf"))  # the worker side takes batches out meanwhile
    for thread in threads:
        thread.join()
    queue.flush(deadline=float("inf"))
    assert queue.exported == 80_000 and queue.queued_bytes == 0
    queue.shutdown(0)
