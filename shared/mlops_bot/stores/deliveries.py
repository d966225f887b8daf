"""GitHub deliveries the ingress admitted, and the per-repository admission counter.

A delivery item is the ingress's claim on a `X-GitHub-Delivery` id: written with a condition
before anything else spends work, so of any number of concurrent copies exactly one goes on to
the rate limit and the queue, and the others answer with its `execution_id`.

- `received`: claimed, not yet on the queue. The claim is a lease: a copy that finds it
  `received` for longer than the lease (the claimer died) takes it over with a conditional
  write and finishes the work under the same `execution_id`.
- `queued`: on the queue; every later copy is a duplicate.

Items expire (`expires_at`, DynamoDB TTL) after the settings' `delivery_ttl_days`.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import Annotated, Any, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys

MAX_DELIVERY_ID = 128
Text = Annotated[str, StringConstraints(max_length=256)]


class DeliveryStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"


class Delivery(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    delivery_id: Annotated[str, StringConstraints(min_length=1, max_length=MAX_DELIVERY_ID)]
    event: Text
    action: Annotated[str, StringConstraints(max_length=1024)] | None = None  # as bounded as the payload's
    repository: Text | None = None
    execution_id: Text
    status: DeliveryStatus = DeliveryStatus.RECEIVED
    received_at: Text
    claimed_at: int = Field(default=0, ge=0, description="epoch seconds the current claim was taken")
    queued_at: Text | None = None
    expires_at: int = Field(ge=0)


class DeliveryStore(Protocol):
    def get(self, tenant_id: str, delivery_id: str) -> Delivery | None: ...

    def claim(self, delivery: Delivery) -> Delivery | None:
        """Record a new delivery; None when this call claimed it, else the delivery already there."""
        ...

    def take_over(self, stale: Delivery, claimed_at: int) -> bool:
        """Claim a `received` delivery whose claimer is gone; False when someone else moved first."""
        ...

    def release(self, delivery: Delivery) -> None:
        """Give up this call's claim (it could not finish), so the next copy starts afresh."""
        ...

    def mark_queued(self, delivery: Delivery, queued_at: str) -> None: ...

    def count_admission(self, tenant_id: str, scope: str, window: int, expires_at: int) -> int:
        """Add one to the admissions of `scope` in rate window `window`; the new count."""
        ...

    def admissions(self, tenant_id: str, scope: str, window: int) -> int:
        """The admissions of `scope` in rate window `window` so far (nothing spent)."""
        ...


def _item(delivery: Delivery) -> dict[str, Any]:
    return {
        **keys.delivery_key(delivery.tenant_id, delivery.delivery_id),
        "entity": "delivery",
        **delivery.model_dump(mode="json", exclude_none=True),
    }


class DynamoDeliveryStore:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    def get(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        found = self._table.get(keys.delivery_key(tenant_id, delivery_id))
        return Delivery.model_validate(found) if found else None

    def claim(self, delivery: Delivery) -> Delivery | None:
        if self._table.put_new(_item(delivery)):
            return None
        existing = self.get(delivery.tenant_id, delivery.delivery_id)
        # Gone between the two calls (released or expired): the caller may simply try again.
        return existing if existing is not None else self.claim(delivery)

    def take_over(self, stale: Delivery, claimed_at: int) -> bool:
        # `status` is a reserved word in DynamoDB expressions, hence the names.
        condition = "#status = :received AND " + (
            "#claimed = :previous" if stale.claimed_at else "attribute_not_exists(#claimed)"
        )
        values: dict[str, Any] = {":received": DeliveryStatus.RECEIVED.value, ":now": claimed_at}
        if stale.claimed_at:
            values[":previous"] = stale.claimed_at
        return self._conditionally(
            self._table.table.update_item,
            Key=keys.delivery_key(stale.tenant_id, stale.delivery_id),
            UpdateExpression="SET #claimed = :now",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status", "#claimed": "claimed_at"},
            ExpressionAttributeValues=values,
        )

    def release(self, delivery: Delivery) -> None:
        self._conditionally(
            self._table.table.delete_item,
            Key=keys.delivery_key(delivery.tenant_id, delivery.delivery_id),
            ConditionExpression="#status = :received AND #execution = :execution",
            ExpressionAttributeNames={"#status": "status", "#execution": "execution_id"},
            ExpressionAttributeValues={":received": DeliveryStatus.RECEIVED.value, ":execution": delivery.execution_id},
        )

    @staticmethod
    def _conditionally(operation: Any, **kwargs: Any) -> bool:
        try:
            operation(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_queued(self, delivery: Delivery, queued_at: str) -> None:
        self._table.set_fields(
            keys.delivery_key(delivery.tenant_id, delivery.delivery_id),
            {"status": DeliveryStatus.QUEUED.value, "queued_at": queued_at},
        )

    def count_admission(self, tenant_id: str, scope: str, window: int, expires_at: int) -> int:
        return self._table.increment(keys.rate_window_key(tenant_id, scope, window), "count", expires_at=expires_at)

    def admissions(self, tenant_id: str, scope: str, window: int) -> int:
        found = self._table.get(keys.rate_window_key(tenant_id, scope, window), consistent=False) or {}
        return int(found.get("count", 0))


class InMemoryDeliveryStore:
    """The same promises in a dict, for unit tests of admission."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.deliveries: dict[tuple[str, str], Delivery] = {}
        self.admitted: dict[tuple[str, str, int], int] = {}

    def get(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        with self._lock:
            found = self.deliveries.get((tenant_id, delivery_id))
            return found.model_copy() if found else None

    def claim(self, delivery: Delivery) -> Delivery | None:
        key = (delivery.tenant_id, delivery.delivery_id)
        with self._lock:
            if key in self.deliveries:
                return self.deliveries[key].model_copy()
            self.deliveries[key] = delivery.model_copy()
            return None

    def take_over(self, stale: Delivery, claimed_at: int) -> bool:
        key = (stale.tenant_id, stale.delivery_id)
        with self._lock:
            current = self.deliveries.get(key)
            if (
                current is None
                or current.status is not DeliveryStatus.RECEIVED
                or current.claimed_at != stale.claimed_at
            ):
                return False
            self.deliveries[key] = current.model_copy(update={"claimed_at": claimed_at})
            return True

    def release(self, delivery: Delivery) -> None:
        key = (delivery.tenant_id, delivery.delivery_id)
        with self._lock:
            current = self.deliveries.get(key)
            if (
                current is not None
                and current.status is DeliveryStatus.RECEIVED
                and current.execution_id == delivery.execution_id
            ):
                del self.deliveries[key]

    def mark_queued(self, delivery: Delivery, queued_at: str) -> None:
        key = (delivery.tenant_id, delivery.delivery_id)
        with self._lock:
            current = self.deliveries.get(key, delivery)
            self.deliveries[key] = current.model_copy(update={"status": DeliveryStatus.QUEUED, "queued_at": queued_at})

    def count_admission(self, tenant_id: str, scope: str, window: int, expires_at: int) -> int:
        with self._lock:
            key = (tenant_id, scope, window)
            self.admitted[key] = self.admitted.get(key, 0) + 1
            return self.admitted[key]

    def admissions(self, tenant_id: str, scope: str, window: int) -> int:
        with self._lock:
            return self.admitted.get((tenant_id, scope, window), 0)
