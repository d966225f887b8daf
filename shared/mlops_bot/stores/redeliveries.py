"""Redeliveries the reconciler asked GitHub for: one marker per delivery GUID, written with a condition.

The first reconciler run to record a GUID requests its redelivery; later runs (and concurrent
reconcilers) find the marker and leave it alone. GitHub's delivery GUIDs are global, so the
markers live under the `_system` tenant; they expire (`expires_at`, DynamoDB TTL) after GitHub
itself has forgotten the delivery.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from pydantic import StringConstraints

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem


class RedeliveryRequest(StoredItem):
    """A redelivery the reconciler requested (item `TENANT#_system#RECONCILE#guid` / `RECONCILE`)."""

    guid: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    requested_at: Annotated[str, StringConstraints(max_length=40)]


class RedeliveryRequestStore(Protocol):
    def request_once(self, request: RedeliveryRequest, expires_at: int) -> bool:
        """Record the request; False when this GUID's redelivery was already requested."""
        ...


class DynamoRedeliveryRequestStore:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    def request_once(self, request: RedeliveryRequest, expires_at: int) -> bool:
        item = {**keys.reconcile_marker_key(request.guid), **request.model_dump(mode="json"), "expires_at": expires_at}
        return self._table.put_new(item)


class InMemoryRedeliveryRequestStore:
    def __init__(self) -> None:
        self.requests: MemoryTable[str, RedeliveryRequest] = MemoryTable()

    def request_once(self, request: RedeliveryRequest, expires_at: int) -> bool:
        del expires_at
        return self.requests.put_new(request.guid, request)
