"""The otel-ops demo: an instrumented AI coding-assistant back end and a traffic generator for it."""
