"""What a tenant used: its monthly API call counter, and how many bytes it stores now.

- the monthly counter (`TENANT#t#USAGE#yyyy-mm` / `USAGE`, field `api_calls`) takes one atomic
  `ADD` per counted call, so every Lambda instance counts into the same number;
- the stored bytes are measured, not counted: the sum of the approximate sizes of the tenant's
  items (its own partition, audit and compliance records, incidents and recorded events). A
  measurement reads every one of them, so it is made when something would add to the storage.
"""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any, Protocol

from pydantic import Field, StringConstraints

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.base import StoredItem

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")]


class MonthlyUsage(StoredItem):
    """A tenant's counted usage in one calendar month (`YYYY-MM`)."""

    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    month: Month
    api_calls: int = Field(default=0, ge=0, le=2**63 - 1)


class UsageStore(Protocol):
    def add_api_call(self, tenant_id: str, month: str) -> int:
        """Count one API call in `month`; returns the month's count including it."""
        ...

    def month(self, tenant_id: str, month: str) -> MonthlyUsage:
        """The month's counters (zero when nothing was counted)."""
        ...

    def stored_bytes(self, tenant_id: str) -> int:
        """The approximate size of everything the tenant stores now."""
        ...


def item_size(item: dict[str, Any]) -> int:
    """An item's approximate stored size (DynamoDB counts names and values; compact JSON is close)."""
    return len(json.dumps(item, default=str, separators=(",", ":")).encode())


class DynamoUsageStore:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    def add_api_call(self, tenant_id: str, month: str) -> int:
        MonthlyUsage(tenant_id=tenant_id, month=month)  # a malformed month never reaches a key
        return self._table.increment(keys.usage_counter_key(tenant_id, month), "api_calls")

    def month(self, tenant_id: str, month: str) -> MonthlyUsage:
        item = self._table.get(keys.usage_counter_key(tenant_id, month)) or {}
        return MonthlyUsage(tenant_id=tenant_id, month=month, api_calls=int(item.get("api_calls", 0)))

    def stored_bytes(self, tenant_id: str) -> int:
        partitions = (keys.tenant_pk(tenant_id), keys.audit_pk(tenant_id), keys.compliance_pk(tenant_id))
        total = sum(item_size(item) for pk in partitions for item in self._table.query(pk))
        for index in (keys.incidents_index(tenant_id), keys.events_index(tenant_id)):
            total += sum(item_size(item) for item in self._table.query(index, by_index=True))
        return total


class InMemoryUsageStore:
    """The same promises in dicts; what the tenant stores is whatever a test says it stores."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._api_calls: dict[tuple[str, str], int] = {}
        self._stored: dict[str, int] = {}

    def add_api_call(self, tenant_id: str, month: str) -> int:
        MonthlyUsage(tenant_id=tenant_id, month=month)
        with self._lock:
            count = self._api_calls.get((tenant_id, month), 0) + 1
            self._api_calls[(tenant_id, month)] = count
            return count

    def month(self, tenant_id: str, month: str) -> MonthlyUsage:
        with self._lock:
            calls = self._api_calls.get((tenant_id, month), 0)
        return MonthlyUsage(tenant_id=tenant_id, month=month, api_calls=calls)

    def set_stored_bytes(self, tenant_id: str, size: int) -> None:
        with self._lock:
            self._stored[tenant_id] = size

    def stored_bytes(self, tenant_id: str) -> int:
        with self._lock:
            return self._stored.get(tenant_id, 0)
