"""Memory of the anomaly jobs' detectors: resident memory of N series, each with a week of points.

    .venv/bin/python -m bench.anomaly_memory [--series 100] [--step 300] [--days 8] [--shape cycle]

Builds one ``EnsembleDetector`` per series (default settings, the series' step as a live job passes it),
feeds every series ``days`` of points so that every window is full, and reports the process' RSS before
and after, per series, and the scoring throughput on one core.  ``--shape cycle``: a noisy daily cycle;
``--shape counts``: counts per step, small (Poisson, mean 1) with bursts on 30% of the points (log-normal),
so values repeat and the absence detectors see bursts, as with errors or jobs counted per minute.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from otel_ops.sidecar.anomaly import EnsembleConfig, EnsembleDetector


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--step", type=float, default=300.0, help="seconds between points")
    parser.add_argument("--days", type=float, default=8.0)
    parser.add_argument(
        "--shape", choices=("cycle", "counts"), default="cycle", help="what the series are like"
    )
    parser.add_argument("--config", default="{}", help="EnsembleConfig settings as JSON (default: defaults)")
    args = parser.parse_args(argv)
    config = EnsembleConfig.model_validate_json(args.config)

    points = int(args.days * 86_400 / args.step)
    timestamps = (1_700_006_400 + np.arange(points) * args.step).tolist()
    cycle = 50 + 10 * np.sin(2 * np.pi * (np.asarray(timestamps) % 86_400) / 86_400)
    before = rss_mb()
    detectors = [EnsembleDetector(config, step_seconds=args.step) for _ in range(args.series)]
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    for detector in detectors:
        if args.shape == "counts":
            bursts = rng.random(points) < 0.3
            values = np.where(bursts, rng.lognormal(3.0, 1.0, points), rng.poisson(1.0, points)).tolist()
        else:
            values = (cycle + rng.normal(0, 1, points)).tolist()
        for timestamp, value in zip(timestamps, values, strict=True):
            detector.update(timestamp, value)
    elapsed = time.perf_counter() - started
    after = rss_mb()
    per_series = (after - before) / args.series
    throughput = args.series * points / elapsed
    print(
        f"{args.series} series ({args.shape}), step {args.step:g} s, {points} points each:"
        f" RSS {before:.0f} -> {after:.0f} MB ({per_series:.2f} MB per series), {throughput:,.0f} points/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
