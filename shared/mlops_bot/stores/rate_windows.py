"""Fixed rate windows of the management API, per tenant and endpoint category.

One item per tenant, category and window (`TENANT#t#RATE#api:<category>#<window>` / `RATE`, field
`count`): one atomic `ADD count 1` per request, so concurrent Lambda instances share the count. The
item expires (DynamoDB TTL `expires_at`) when the caller says, two windows later in practice.
The ingress's own webhook windows live with the deliveries (`stores.deliveries`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys


class RateCategory(StrEnum):
    MANAGEMENT = "management"
    ANALYTICS = "analytics"
    WEBHOOKS = "webhooks"


Category = Literal["management", "analytics", "webhooks"]


@dataclass(frozen=True)
class RateDecision:
    """What one counted request learnt of its window: within the limit or not, and the headers that say so."""

    category: Category
    limit: int
    count: int
    reset: int
    window_seconds: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Window": str(self.window_seconds),
        }


def _scope(category: RateCategory) -> str:
    return f"api:{category.value}"


class RateWindowStore(Protocol):
    def count(self, tenant_id: str, category: RateCategory, window: int, *, expires_at: int) -> int:
        """Count one request in the window; returns the window's count including it."""
        ...

    def current(self, tenant_id: str, category: RateCategory, window: int) -> int:
        """The window's count so far (zero for a window nobody counted in)."""
        ...


class DynamoRateWindowStore:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    def count(self, tenant_id: str, category: RateCategory, window: int, *, expires_at: int) -> int:
        key = keys.rate_window_key(tenant_id, _scope(RateCategory(category)), window)
        return self._table.increment(key, "count", expires_at=expires_at)

    def current(self, tenant_id: str, category: RateCategory, window: int) -> int:
        found = self._table.get(keys.rate_window_key(tenant_id, _scope(RateCategory(category)), window)) or {}
        return int(found.get("count", 0))


class InMemoryRateWindowStore:
    """The same counts in a dict (expiry is DynamoDB's housekeeping: a past window is never read again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, RateCategory, int], int] = {}

    def count(self, tenant_id: str, category: RateCategory, window: int, *, expires_at: int) -> int:
        key = (tenant_id, RateCategory(category), window)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]

    def current(self, tenant_id: str, category: RateCategory, window: int) -> int:
        with self._lock:
            return self._counts.get((tenant_id, RateCategory(category), window), 0)
