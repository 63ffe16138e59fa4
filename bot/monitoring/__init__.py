"""What operators watch: logs (redacted), the access line, Prometheus metrics, deadline probes."""
