"""Numenta Anomaly Benchmark (NAB) scoring and the benchmark runner for the sidecar's detectors."""
