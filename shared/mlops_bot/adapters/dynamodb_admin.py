"""Table-level settings of the state table (not its items): what the compliance checks inspect."""

from __future__ import annotations

from typing import Any

import boto3


def ttl_attribute(table_name: str, client: Any | None = None) -> str | None:
    """The attribute DynamoDB expires items on, or None when TTL is not enabled."""
    ddb = client or boto3.client("dynamodb")
    description = ddb.describe_time_to_live(TableName=table_name).get("TimeToLiveDescription", {})
    if description.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
        return str(description.get("AttributeName") or "") or None
    return None
