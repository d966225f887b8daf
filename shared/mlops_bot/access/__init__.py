"""Who may call the management API: API keys (hashed at rest) and their tenants."""
