"""Scheduled work: periodic checks per repository."""
