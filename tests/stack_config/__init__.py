"""Static and tool-driven checks of the stack configuration (Prometheus, Alertmanager, Grafana, Loki,
Tempo, docker compose)."""
