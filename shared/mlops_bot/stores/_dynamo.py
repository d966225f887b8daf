"""What the DynamoDB stores share: one low-level client per table and all-or-nothing writes.

A quota is a counter on the tenant's `COUNTERS` item; creating or deleting a counted thing writes
the thing and moves the counter in one DynamoDB transaction, so a slot is taken or given back
exactly when the thing appears or disappears, however many requests race.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from mlops_bot.adapters.dynamodb import StateTable


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A python item as the table resource's client takes it (None dropped, floats as Decimal).

    The client of a boto3 table resource converts python values to DynamoDB's typed format itself.
    """
    plain: dict[str, Any] = _plain(dict(item))
    return plain


class TransactionRefused(Exception):
    """A condition of the transaction did not hold; `failed` lists the indexes of those that failed."""

    def __init__(self, failed: list[int]) -> None:
        super().__init__(f"conditions failed at {failed}")
        self.failed = failed


def transact(table: StateTable, operations: Sequence[Mapping[str, Any]]) -> None:
    """Run `operations` (each `{"Put"|"Update"|"Delete"|"ConditionCheck": {...}}` without TableName)."""
    items: list[Any] = []
    for operation in operations:
        ((kind, body),) = operation.items()
        items.append({kind: {"TableName": table.name, **body}})
    try:
        table.table.meta.client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons") or []
        failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
        if not failed:
            raise
        raise TransactionRefused(failed) from exc


def counter_update(
    key: Mapping[str, str], tenant_id: str, counter: str, delta: int, maximum: int | None
) -> dict[str, Any]:
    """Move a tenant counter by `delta`; with `maximum`, only while it stays at or below it."""
    update: dict[str, Any] = {
        "Key": serialize(key),
        "UpdateExpression": "SET tenant_id = :tenant ADD #counter :delta",
        "ExpressionAttributeNames": {"#counter": counter},
        "ExpressionAttributeValues": serialize({":tenant": tenant_id, ":delta": delta}),
    }
    if maximum is not None and delta > 0:
        update["ConditionExpression"] = "attribute_not_exists(#counter) OR #counter <= :room"
        update["ExpressionAttributeValues"][":room"] = maximum - delta
    return {"Update": update}


def put_new(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"Put": {"Item": serialize(item), "ConditionExpression": "attribute_not_exists(pk)"}}


def delete_existing(key: Mapping[str, str]) -> dict[str, Any]:
    return {"Delete": {"Key": serialize(key), "ConditionExpression": "attribute_exists(pk)"}}
