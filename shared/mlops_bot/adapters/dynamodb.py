"""The bot's one DynamoDB table, as a handful of typed operations.

It knows DynamoDB (conditions, counters, pagination, Decimal) and nothing of the rules: services
build the items with `mlops_bot.storage.keys` and decide what a conditional failure means.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

# boto3 (~300 ms of imports) is loaded when the first table is built, not when this module is
# imported: the management API's routes name `StateTable` in their signatures at cold start.

Item = dict[str, Any]


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A non-finite number (stored before the edges refused them) reads as a float instead of
        # raising, so one bad item can not fail every read of its partition; models refuse it.
        if not value.is_finite():
            return float(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return sorted(_from_dynamo(v) for v in value)
    return value


class StateTable:
    """Typed access to the single table (pk/sk, GSI `gsi1`)."""

    GSI = "gsi1"

    def __init__(self, table_name: str, resource: Any | None = None) -> None:
        if resource is None:
            import boto3

            resource = boto3.resource("dynamodb")
        self._resource = resource
        self.table = self._resource.Table(table_name)
        self.name = table_name

    def put_new(self, item: Mapping[str, Any]) -> bool:
        """Write `item` only if its key is free; False when it already exists."""
        try:
            self.table.put_item(Item=_to_dynamo(dict(item)), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put(self, item: Mapping[str, Any]) -> None:
        self.table.put_item(Item=_to_dynamo(dict(item)))

    def get(self, key: Mapping[str, str], consistent: bool = True) -> Item | None:
        found = self.table.get_item(Key=dict(key), ConsistentRead=consistent).get("Item")
        return _from_dynamo(found) if found else None

    def delete(self, key: Mapping[str, str]) -> None:
        self.table.delete_item(Key=dict(key))

    def set_fields(
        self,
        key: Mapping[str, str],
        fields: Mapping[str, Any],
        *,
        increments: Mapping[str, int] | None = None,
        append: Mapping[str, list[Any]] | None = None,
        if_exists: bool = False,
        condition: str | None = None,
        condition_values: Mapping[str, Any] | None = None,
    ) -> Item | None:
        """SET fields, ADD counters and append to lists in one update; returns the new item.

        Returns None when `if_exists` or `condition` did not hold.
        """
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        adds: list[str] = []
        for i, (name, value) in enumerate(fields.items()):
            names[f"#s{i}"] = name
            values[f":s{i}"] = _to_dynamo(value)
            sets.append(f"#s{i} = :s{i}")
        for i, (name, amount) in enumerate((increments or {}).items()):
            names[f"#a{i}"] = name
            values[f":a{i}"] = amount
            adds.append(f"#a{i} :a{i}")
        for i, (name, entries) in enumerate((append or {}).items()):
            names[f"#l{i}"] = name
            values[f":l{i}"] = _to_dynamo(entries)
            values[":empty"] = []
            sets.append(f"#l{i} = list_append(if_not_exists(#l{i}, :empty), :l{i})")
        expression = ""
        if sets:
            expression += "SET " + ", ".join(sets)
        if adds:
            expression += " ADD " + ", ".join(adds)
        kwargs: dict[str, Any] = {
            "Key": dict(key),
            "UpdateExpression": expression.strip(),
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        conditions = []
        if if_exists:
            conditions.append("attribute_exists(pk)")
        if condition:
            conditions.append(condition)
            values.update({k: _to_dynamo(v) for k, v in (condition_values or {}).items()})
        if conditions:
            kwargs["ConditionExpression"] = " AND ".join(f"({c})" for c in conditions)
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            response = self.table.update_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return _from_dynamo(response.get("Attributes", {}))  # type: ignore[no-any-return]

    def increment(self, key: Mapping[str, str], counter: str, expires_at: int | None = None) -> int:
        """Atomically add one to `counter` (creating the item) and return the new value."""
        fields: dict[str, Any] = {"expires_at": expires_at} if expires_at is not None else {}
        item = self.set_fields(key, fields, increments={counter: 1})
        return int((item or {}).get(counter, 0))

    def query(
        self,
        pk: str,
        sk_prefix: str | None = None,
        *,
        by_index: bool = False,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[Item]:
        """Items of one partition (optionally with a sort-key prefix), following pagination."""
        from boto3.dynamodb.conditions import Key

        pk_name, sk_name = ("gsi1pk", "gsi1sk") if by_index else ("pk", "sk")
        condition: Any = Key(pk_name).eq(pk)
        if sk_prefix:
            condition = condition & Key(sk_name).begins_with(sk_prefix)
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ScanIndexForward": not newest_first}
        if by_index:
            kwargs["IndexName"] = self.GSI
        items: list[Item] = []
        while True:
            if limit is not None:
                kwargs["Limit"] = max(1, limit - len(items))
            page = self.table.query(**kwargs)
            items.extend(_from_dynamo(i) for i in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if not last or (limit is not None and len(items) >= limit):
                break
            kwargs["ExclusiveStartKey"] = last
        return items[:limit] if limit is not None else items

    def reachable(self) -> bool:
        """True when the table answers (readiness)."""
        try:
            self._resource.meta.client.describe_table(TableName=self.name)
        except ClientError:
            return False
        return True

    # ---------------------------------------------------------------- dashboard (issue 6)
    def delete_if(self, key: Mapping[str, str], condition: str, values: Mapping[str, Any]) -> bool:
        """Delete `key` only while `condition` holds (e.g. it still belongs to the same owner)."""
        try:
            self.table.delete_item(
                Key=dict(key),
                ConditionExpression=condition,
                ExpressionAttributeValues={k: _to_dynamo(v) for k, v in values.items()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def count(self, pk: str, *, by_index: bool = False, excluding: Mapping[str, list[str]] | None = None) -> int:
        """How many items of one partition, leaving out those whose field has one of the given values.

        DynamoDB still reads every item of the partition (Select COUNT only saves the transfer), so
        callers bound how often they ask.
        """
        from boto3.dynamodb.conditions import Attr, Key

        pk_name = "gsi1pk" if by_index else "pk"
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key(pk_name).eq(pk), "Select": "COUNT"}
        if by_index:
            kwargs["IndexName"] = self.GSI
        for name, values in (excluding or {}).items():
            condition = ~Attr(name).is_in([_to_dynamo(v) for v in values])
            kwargs["FilterExpression"] = (
                condition if "FilterExpression" not in kwargs else kwargs["FilterExpression"] & condition
            )
        total = 0
        while True:
            page = self.table.query(**kwargs)
            total += int(page.get("Count", 0))
            last = page.get("LastEvaluatedKey")
            if not last:
                return total
            kwargs["ExclusiveStartKey"] = last
