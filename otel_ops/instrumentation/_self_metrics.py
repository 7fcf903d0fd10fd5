"""The SDK's own health as metrics: export queue size and capacity, and items processed or dropped."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_ops.instrumentation._batch import BatchQueue

_COMPONENT = {"traces": ("span", "batching_span_processor"), "logs": ("log", "batching_log_processor")}


def register_queue_metrics(meter: Meter, queues: dict[str, BatchQueue[Any]]) -> None:
    """``otel.sdk.processor.{span,log}.{queue.size,queue.capacity,processed}`` per the semantic conventions;
    dropped items are counted in ``processed`` with ``error.type`` (queue_full, export_failed, shutdown)."""
    for signal, queue in queues.items():
        item, component_type = _COMPONENT[signal]
        base = {"otel.component.type": component_type, "otel.component.name": f"{component_type}/otel-ops"}
        _register(meter, item, queue, base)


def _register(meter: Meter, item: str, queue: BatchQueue[Any], base: dict[str, str]) -> None:
    def size(options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(len(queue), base)

    def capacity(options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(queue.max_queue_size, base)

    def processed(options: CallbackOptions) -> Iterable[Observation]:
        drops = queue.drops
        yield Observation(queue.exported, base)
        yield Observation(drops.queue_full, {**base, "error.type": "queue_full"})
        yield Observation(drops.export_failed, {**base, "error.type": "export_failed"})
        yield Observation(drops.shutdown, {**base, "error.type": "shutdown"})

    unit = "{" + item + "}"
    meter.create_observable_up_down_counter(f"otel.sdk.processor.{item}.queue.size", [size], unit=unit)
    meter.create_observable_up_down_counter(
        f"otel.sdk.processor.{item}.queue.capacity", [capacity], unit=unit
    )
    meter.create_observable_counter(f"otel.sdk.processor.{item}.processed", [processed], unit=unit)
