"""``otel-ops explain``: from an alert, a trace id or an error fingerprint to the traces, logs and errors
behind it, read from the stores (Prometheus and Alertmanager; Jaeger or Tempo; VictoriaLogs or Loki).

Part of the ops layer: the instrumentation never imports it.
"""
