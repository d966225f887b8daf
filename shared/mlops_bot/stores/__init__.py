"""Data access: one store per stored thing, each a Protocol with a DynamoDB and an in-memory implementation.

A store owns its keys (built by `mlops_bot.storage.keys`), its pydantic item model, its
conditional writes, TTLs and pagination. Nothing above a store sees a DynamoDB attribute name.
"""
