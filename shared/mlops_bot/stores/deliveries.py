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

import re
from enum import StrEnum
from typing import Annotated, Any, Protocol

from pydantic import Field, StringConstraints

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, conditionally

MAX_DELIVERY_ID = 128
# GitHub's delivery ids are GUIDs; ids of other senders (the replay CLI, tests) are tokens of the
# same characters. Nothing else is taken: the id goes into keys, logs and the queued message.
DELIVERY_ID_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._:-]{{0,{MAX_DELIVERY_ID - 1}}}$"
_DELIVERY_ID = re.compile(DELIVERY_ID_PATTERN)
DeliveryId = Annotated[str, StringConstraints(pattern=DELIVERY_ID_PATTERN)]
Text = Annotated[str, StringConstraints(max_length=256)]


def is_delivery_id(value: str) -> bool:
    return _DELIVERY_ID.fullmatch(value) is not None


class DeliveryStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"


class Delivery(StoredItem):
    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    delivery_id: DeliveryId
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
        return Delivery.model_validate(found) if found else None  # `expires_at` is a field of a delivery

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
        return conditionally(
            self._table.table.update_item,
            Key=keys.delivery_key(stale.tenant_id, stale.delivery_id),
            UpdateExpression="SET #claimed = :now",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status", "#claimed": "claimed_at"},
            ExpressionAttributeValues=values,
        )

    def release(self, delivery: Delivery) -> None:
        conditionally(
            self._table.table.delete_item,
            Key=keys.delivery_key(delivery.tenant_id, delivery.delivery_id),
            ConditionExpression="#status = :received AND #execution = :execution",
            ExpressionAttributeNames={"#status": "status", "#execution": "execution_id"},
            ExpressionAttributeValues={":received": DeliveryStatus.RECEIVED.value, ":execution": delivery.execution_id},
        )

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


class Admissions(StoredItem):
    """The in-memory stand-in of a rate window's counter item."""

    count: int = Field(default=0, ge=0)


class InMemoryDeliveryStore:
    """The same promises in memory, for unit tests of admission."""

    def __init__(self) -> None:
        self.deliveries: MemoryTable[tuple[str, str], Delivery] = MemoryTable()
        self.admitted: MemoryTable[tuple[str, str, int], Admissions] = MemoryTable()

    def get(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        return self.deliveries.get((tenant_id, delivery_id))

    def claim(self, delivery: Delivery) -> Delivery | None:
        key = (delivery.tenant_id, delivery.delivery_id)
        while not self.deliveries.put_new(key, delivery):
            existing = self.deliveries.get(key)
            if existing is not None:
                return existing
        return None

    def take_over(self, stale: Delivery, claimed_at: int) -> bool:
        def claim(current: Delivery) -> Delivery | None:
            if current.status is not DeliveryStatus.RECEIVED or current.claimed_at != stale.claimed_at:
                return None
            return current.model_copy(update={"claimed_at": claimed_at})

        return self.deliveries.update((stale.tenant_id, stale.delivery_id), claim) is not None

    def release(self, delivery: Delivery) -> None:
        key = (delivery.tenant_id, delivery.delivery_id)

        self.deliveries.delete_if(
            key,
            lambda current: current.status is DeliveryStatus.RECEIVED and current.execution_id == delivery.execution_id,
        )

    def mark_queued(self, delivery: Delivery, queued_at: str) -> None:
        key = (delivery.tenant_id, delivery.delivery_id)
        self.deliveries.put_new(key, delivery)  # DynamoDB's update creates a missing item too
        self.deliveries.update(
            key, lambda current: current.model_copy(update={"status": DeliveryStatus.QUEUED, "queued_at": queued_at})
        )

    def count_admission(self, tenant_id: str, scope: str, window: int, expires_at: int) -> int:
        del expires_at
        key = (tenant_id, scope, window)
        self.admitted.put_new(key, Admissions())
        counted = self.admitted.update(key, lambda current: current.model_copy(update={"count": current.count + 1}))
        return counted.count if counted else 0

    def admissions(self, tenant_id: str, scope: str, window: int) -> int:
        found = self.admitted.get((tenant_id, scope, window))
        return found.count if found else 0
