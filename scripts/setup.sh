#!/usr/bin/env bash
# Installs everything otel-ops' demo and tests need on a fresh Debian machine; quick when already done.
#   system packages: Prometheus, Alertmanager (+promtool, amtool), PostgreSQL, restic, docker-compose (config
#                    validation only), wrk (benchmarks), openssl (test certificates); Go must already be on
#                    the machine (collector build)
#   Python:          a virtualenv in .venv with otel-ops and its development extras
#   Go programs:     the otel-ops Collector distribution, Jaeger v2 and VictoriaLogs, built once from Go
#                    modules and cached outside the repo (~/.cache/otel-ops)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pair in prometheus:prometheus prometheus-alertmanager:prometheus-alertmanager promtool:prometheus \
            amtool:prometheus-alertmanager pg_ctlcluster:postgresql restic:restic docker-compose:docker-compose \
            wrk:wrk openssl:openssl; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair#*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> Installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need_apt[@]}" | sort -u) >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> Creating .venv"
  python3 -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "==> Installing otel-ops into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  touch .venv/.installed
fi

if .venv/bin/otel-ops collector --help >/dev/null 2>&1 && .venv/bin/otel-ops collector build --help >/dev/null 2>&1; then
  .venv/bin/otel-ops collector build
fi
if .venv/bin/otel-ops stores build --help >/dev/null 2>&1; then
  .venv/bin/otel-ops stores build
fi
