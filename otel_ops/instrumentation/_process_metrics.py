"""Process metrics by the OpenTelemetry semantic conventions, read from psutil and ``gc`` at collection."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable

import psutil
from opentelemetry.metrics import CallbackOptions, Meter, Observation


class _Process:
    """The current process' psutil handle, renewed after fork."""

    def __init__(self) -> None:
        self._pid = -1
        self._process: psutil.Process | None = None
        self._cpus = psutil.cpu_count() or 1

    def get(self) -> psutil.Process:
        pid = os.getpid()
        if pid != self._pid or self._process is None:
            self._process = psutil.Process(pid)
            self._process.cpu_percent(None)
            self._pid = pid
        return self._process


def register_process_metrics(meter: Meter) -> None:
    process = _Process()

    def cpu_time(options: CallbackOptions) -> Iterable[Observation]:
        times = process.get().cpu_times()
        yield Observation(times.user, {"cpu.mode": "user"})
        yield Observation(times.system, {"cpu.mode": "system"})

    def cpu_utilization(options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(process.get().cpu_percent(None) / 100.0 / process._cpus)

    def memory(options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(process.get().memory_info().rss)

    def virtual(options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(process.get().memory_info().vms)

    def threads(options: CallbackOptions) -> Iterable[Observation]:
        yield Observation(process.get().num_threads())

    def fds(options: CallbackOptions) -> Iterable[Observation]:
        if hasattr(psutil.Process, "num_fds"):
            yield Observation(process.get().num_fds())

    def gc_collections(options: CallbackOptions) -> Iterable[Observation]:
        for generation, stats in enumerate(gc.get_stats()):
            yield Observation(stats["collections"], {"cpython.gc.generation": generation})

    def gc_collected(options: CallbackOptions) -> Iterable[Observation]:
        for generation, stats in enumerate(gc.get_stats()):
            yield Observation(stats["collected"], {"cpython.gc.generation": generation})

    meter.create_observable_counter("process.cpu.time", [cpu_time], unit="s", description="CPU seconds used.")
    meter.create_observable_gauge(
        "process.cpu.utilization", [cpu_utilization], unit="1", description="CPU used / CPU available."
    )
    meter.create_observable_up_down_counter(
        "process.memory.usage", [memory], unit="By", description="Resident memory (RSS)."
    )
    meter.create_observable_up_down_counter(
        "process.memory.virtual", [virtual], unit="By", description="Virtual memory."
    )
    meter.create_observable_up_down_counter(
        "process.thread.count", [threads], unit="{thread}", description="Threads of the process."
    )
    meter.create_observable_up_down_counter(
        "process.unix.file_descriptor.count", [fds], unit="{file_descriptor}", description="Open fds."
    )
    meter.create_observable_counter(
        "cpython.gc.collections", [gc_collections], unit="{collection}", description="GC runs per generation."
    )
    meter.create_observable_counter(
        "cpython.gc.collected_objects", [gc_collected], unit="{object}", description="Objects collected."
    )
