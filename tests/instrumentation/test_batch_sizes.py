"""Export batches: a full batch wakes the export worker, which sends full batches only; the rest waits for
the next full batch or the schedule delay, so a busy service sends a few large requests rather than a tail
of tiny ones (each an HTTP request on the service's interpreter)."""

from __future__ import annotations

import threading
import time

from otel_ops.instrumentation._batch import BatchQueue, Outcome


def test_a_full_batch_wakes_the_worker_and_only_full_batches_are_sent_until_flush() -> None:
    sizes: list[int] = []
    two_sent = threading.Event()

    def export(batch: list[str], timeout: float | None) -> Outcome:
        sizes.append(len(batch))
        if len(sizes) >= 2:
            two_sent.set()
        return Outcome.SUCCESS

    queue: BatchQueue[str] = BatchQueue(
        "test", export, max_queue_size=1000, max_batch_size=10, schedule_delay=3600
    )
    with queue._export_lock:  # the worker, woken at the tenth item, waits until all 25 are queued
        for i in range(25):
            queue.put(f"item-{i}", 10)
    assert two_sent.wait(5)
    time.sleep(0.2)  # time enough for a third, partial export if one were coming
    assert sizes == [10, 10] and len(queue) == 5
    assert queue.flush(deadline=time.monotonic() + 5)  # a flush (and the schedule delay) sends the rest
    assert sizes == [10, 10, 5] and len(queue) == 0
    queue.shutdown(time.monotonic() + 1)


def test_the_schedule_delay_sends_a_partial_batch() -> None:
    sent = threading.Event()
    queue: BatchQueue[str] = BatchQueue(
        "test",
        lambda batch, timeout: sent.set() or Outcome.SUCCESS,
        max_queue_size=1000,
        max_batch_size=10,
        schedule_delay=0.1,
    )
    queue.put("alone", 10)
    assert sent.wait(5) and len(queue) == 0
    queue.shutdown(time.monotonic() + 1)
