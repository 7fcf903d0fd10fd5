# otel-ops: `make demo` runs the pipeline with a demo service; `make test` runs every test. Both set up first.
.PHONY: setup demo test lint bench

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/otel-ops demo

test: setup
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/pytest

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench: setup
	.venv/bin/python -m bench.instrumentation
