"""Signals pipelines report: drift reports and model metrics, turned into incidents."""
