"""Read-only reports over a tenant's records: analytics, Prometheus metrics, request counters, compliance audits."""
