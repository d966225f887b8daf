"""Management API request counters for `/metrics`: requests, latency and errors, per tenant.

One item per (method, route template, status) (`TENANT#t#REQUEST_METRICS` / `METHOD route status`)
holds monotonic counters: `count`, `duration_us` and one cumulative histogram bucket per bound
(`le_0_005` ... `le_10_0`). Counting a request is one atomic update of that item, so every Lambda
instance counts into the same counters Prometheus expects. A malformed item is logged and left out.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any, Protocol

from pydantic import Field, StringConstraints, ValidationError

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.base import StoredItem

logger = logging.getLogger("mlops_bot.stores.request_metrics")

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]


def bucket_field(bound: float) -> str:
    return "le_" + repr(bound).replace(".", "_")


class RequestCounter(StoredItem):
    """The counters of one (method, route template, status) of one tenant."""

    method: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    route: Annotated[str, StringConstraints(max_length=512)]
    status: int = Field(ge=100, le=599)
    count: Count = 0
    duration_us: Count = 0
    buckets: dict[float, Count] = Field(default_factory=dict, description="requests at or under each bound")

    @property
    def duration_seconds(self) -> float:
        return self.duration_us / 1_000_000


class RequestMetricsStore(Protocol):
    def add(self, tenant_id: str, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request that took `seconds`."""
        ...

    def counters(self, tenant_id: str) -> list[RequestCounter]:
        """Every counter of the tenant, by method, route and status; malformed items are skipped."""
        ...


def _increments(seconds: float) -> dict[str, int]:
    increments = {"count": 1, "duration_us": max(0, round(seconds * 1_000_000))}
    increments.update({bucket_field(bound): 1 for bound in BUCKETS if seconds <= bound})
    return increments


def _counter(item: dict[str, Any]) -> RequestCounter | None:
    try:
        return RequestCounter.model_validate(
            {**item, "buckets": {bound: item.get(bucket_field(bound), 0) for bound in BUCKETS}}
        )
    except ValidationError as exc:
        logger.error(
            "unreadable request counter skipped",
            extra={"sk": item.get("sk"), "problems": exc.errors(include_input=False)[:5]},
        )
        return None


class DynamoRequestMetricsStore:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    def add(self, tenant_id: str, method: str, route: str, status: int, seconds: float) -> None:
        identity = RequestCounter(method=method, route=route, status=status)  # nothing malformed is stored
        self._table.set_fields(
            keys.request_metrics_key(tenant_id, identity.method, identity.route, identity.status),
            {**identity.model_dump(include={"method", "route", "status"}), "entity": "request_metrics"},
            increments=_increments(seconds),
        )

    def counters(self, tenant_id: str) -> list[RequestCounter]:
        found = (_counter(item) for item in self._table.query(keys.request_metrics_pk(tenant_id)))
        return [counter for counter in found if counter is not None]


class InMemoryRequestMetricsStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str, str, int], dict[str, Any]] = {}

    def add(self, tenant_id: str, method: str, route: str, status: int, seconds: float) -> None:
        identity = RequestCounter(method=method, route=route, status=status)
        key = (tenant_id, identity.method, identity.route, identity.status)
        with self._lock:
            item = self._items.setdefault(key, {"method": method, "route": route, "status": status})
            for name, amount in _increments(seconds).items():
                item[name] = item.get(name, 0) + amount

    def counters(self, tenant_id: str) -> list[RequestCounter]:
        with self._lock:
            mine = [dict(item) for (tenant, *_), item in self._items.items() if tenant == tenant_id]
        mine.sort(key=lambda item: f"{item['method']} {item['route']} {item['status']}")  # DynamoDB's sort-key order
        found = (_counter(item) for item in mine)
        return [counter for counter in found if counter is not None]
