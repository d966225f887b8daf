"""Recovering webhook deliveries GitHub gave up on (it never redelivers by itself)."""
