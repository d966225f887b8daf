"""Table-level settings of the state table (not its items): what the compliance checks inspect."""

from __future__ import annotations

from typing import Any


def ttl_attribute(table_name: str, client: Any | None = None) -> str | None:
    """The attribute DynamoDB expires items on, or None when TTL is not enabled."""
    if client is None:
        import boto3  # at the first check, not at import (the management API's cold start)

        client = boto3.client("dynamodb")
    ddb = client
    description = ddb.describe_time_to_live(TableName=table_name).get("TimeToLiveDescription", {})
    if description.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
        return str(description.get("AttributeName") or "") or None
    return None
