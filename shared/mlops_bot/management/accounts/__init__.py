"""Tenants and what they may spend: creation and visibility, quotas, monthly usage, rate limits."""
