"""What every store shares: the item model's base, a page of results, and the in-memory table.

The DynamoDB implementations sit on `adapters.dynamodb.StateTable` (which converts numbers to and
from `Decimal`); the in-memory ones on `MemoryTable`, a lock-guarded dict that copies on the way in
and out, so a unit test sees exactly what a second read of DynamoDB would.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlops_bot.adapters.dynamodb import StateTable, _from_dynamo, _to_dynamo
from mlops_bot.errors import Invalid

M = TypeVar("M", bound=BaseModel)
K = TypeVar("K")

# What DynamoDB's own bookkeeping fields are called; they never leave a store.
KEY_FIELDS = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "entity", "expires_at"})


def to_dynamo(value: Any) -> Any:
    """Python values as DynamoDB takes them (floats as `Decimal`, no `None` inside maps)."""
    return _to_dynamo(value)


def from_dynamo(value: Any) -> Any:
    """DynamoDB values back as Python ones (`Decimal` as int or float, sets as sorted lists)."""
    return _from_dynamo(value)


class StoredItem(BaseModel):
    """An item as a store keeps it: finite numbers only, unknown stored fields ignored on read."""

    # defer_build: a stored item's validator is built when a store first uses it, not at import
    # (the management API imports many stores and a request touches one or two).
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, use_enum_values=False, defer_build=True)


class Page(BaseModel, Generic[M]):
    """One page of a listing; `cursor` is opaque to callers and None on the last page."""

    items: list[M] = Field(default_factory=list)
    cursor: str | None = None


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True, default=str).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The store's position from a cursor a caller handed back; a tampered cursor is `Invalid`."""
    if not cursor:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError) as exc:
        raise Invalid("Invalid cursor", "the cursor is not one this API handed out") from exc
    if not isinstance(decoded, dict) or not all(isinstance(v, str | int) for v in decoded.values()):
        raise Invalid("Invalid cursor", "the cursor is not one this API handed out")
    return decoded


def conditionally(write: Callable[..., Any], **request: Any) -> bool:
    """Make one conditional DynamoDB write (`write(**request)`); False when its condition did not hold.

    Any other error is raised: only a refused condition is an answer the store turns into a value.
    """
    try:
        write(**request)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def stored_fields(item: dict[str, Any]) -> dict[str, Any]:
    """An item without the table's key and index attributes."""
    return {k: v for k, v in item.items() if k not in KEY_FIELDS}


_logger = logging.getLogger("mlops_bot.stores")


def read_item(model: type[M], item: dict[str, Any] | None, what: str, fields: dict[str, Any] | None = None) -> M | None:
    """`item` as `model` (its `stored_fields`, or `fields` when given); an unreadable one is logged
    and read as absent, so one bad item never fails a read or a listing."""
    if item is None:
        return None
    try:
        return model.model_validate(stored_fields(item) if fields is None else fields)
    except ValidationError as exc:
        _logger.warning(
            f"unreadable {what} skipped",
            extra={"pk": item.get("pk"), "sk": item.get("sk"), "problems": exc.errors(include_input=False)[:5]},
        )
        return None


def read_items(model: type[M], items: Iterable[dict[str, Any]], what: str) -> list[M]:
    """The readable items of a listing as `model`; each unreadable one is logged and skipped."""
    return [found for item in items if (found := read_item(model, item, what)) is not None]


class MemoryTable(Generic[K, M]):
    """Models keyed by a tuple, behind a lock: the in-memory stores' shared storage."""

    def __init__(self) -> None:
        self._items: dict[K, M] = {}
        self._lock = threading.RLock()

    def get(self, key: K) -> M | None:
        with self._lock:
            found = self._items.get(key)
            return found.model_copy(deep=True) if found is not None else None

    def put(self, key: K, item: M) -> None:
        with self._lock:
            self._items[key] = item.model_copy(deep=True)

    def put_new(self, key: K, item: M) -> bool:
        with self._lock:
            if key in self._items:
                return False
            self._items[key] = item.model_copy(deep=True)
            return True

    def update(self, key: K, change: Callable[[M], M | None]) -> M | None:
        """Apply `change` atomically; it returns the new item, or None to refuse (a failed condition)."""
        with self._lock:
            current = self._items.get(key)
            if current is None:
                return None
            changed = change(current.model_copy(deep=True))
            if changed is None:
                return None
            self._items[key] = changed
            return changed.model_copy(deep=True)

    def delete(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def delete_if(self, key: K, condition: Callable[[M], bool]) -> bool:
        """Delete the item only while `condition` holds for it (DynamoDB's conditional delete)."""
        with self._lock:
            current = self._items.get(key)
            if current is None or not condition(current.model_copy(deep=True)):
                return False
            del self._items[key]
            return True

    def values(self, where: Callable[[K], bool] | None = None) -> list[M]:
        with self._lock:
            return [v.model_copy(deep=True) for k, v in self._items.items() if where is None or where(k)]

    def keys(self) -> Iterable[K]:
        with self._lock:
            return list(self._items)


def page_of(items: list[M], limit: int, cursor: str | None, position: Callable[[M], str]) -> Page[M]:
    """Page an already ordered list the way the DynamoDB stores page a query."""
    start = decode_cursor(cursor)
    after = str(start["after"]) if start else None
    remaining = items
    if after is not None:
        index = next((i for i, item in enumerate(items) if position(item) == after), None)
        remaining = items[index + 1 :] if index is not None else []
    chosen = remaining[:limit]
    more = len(remaining) > limit
    return Page(items=chosen, cursor=encode_cursor({"after": position(chosen[-1])}) if more and chosen else None)


def query_page(
    table: StateTable,
    pk: str,
    *,
    by_index: bool = False,
    newest_first: bool = False,
    limit: int = 50,
    cursor: str | None = None,
    sk_at_least: str | None = None,
    sk_prefix: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a partition (DynamoDB's own pagination, its last key as the cursor)."""
    from boto3.dynamodb.conditions import Key  # boto3 is loaded by the table already; not at import

    pk_name, sk_name = ("gsi1pk", "gsi1sk") if by_index else ("pk", "sk")
    condition: Any = Key(pk_name).eq(pk)
    if sk_at_least is not None:
        condition = condition & Key(sk_name).gte(sk_at_least)
    elif sk_prefix is not None:
        condition = condition & Key(sk_name).begins_with(sk_prefix)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ScanIndexForward": not newest_first, "Limit": limit}
    if by_index:
        kwargs["IndexName"] = table.GSI
    start = decode_cursor(cursor)
    if start:
        if start.get(pk_name) != pk:  # a cursor from another partition (or tenant) is refused
            raise Invalid("Invalid cursor", "the cursor is not one this API handed out")
        kwargs["ExclusiveStartKey"] = start
    response = table.table.query(**kwargs)
    items = [from_dynamo(i) for i in response.get("Items", [])]
    return items, encode_cursor(response.get("LastEvaluatedKey"))
