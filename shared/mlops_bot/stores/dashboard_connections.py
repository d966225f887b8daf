"""Open dashboard WebSocket connections: a slot per connection, tenant first, and a route by connection id.

What is stored, and how:
- the slot (`TENANT#t#DASHBOARD` / `CONN#<user>#<00..09>`): the connection itself. `claim` takes a
  slot with one conditional write, only when it is free or its holder expired, so two tabs opening
  at once never share one. Items carry `expires_at` (DynamoDB's TTL); since TTL deletion is lazy,
  the listings also leave out expired items themselves.
- the route (`TENANT#_system#WSCONN#<connection id>` / `ROUTE`): which tenant and slot hold the
  connection, for `$disconnect` and `subscribe`, which carry nothing but the id.

A slot is released only while it still holds the same connection id (`delete_if`): a reconnect that
already reclaimed an expired slot is never thrown out by the old connection's late `$disconnect`.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import parse_iso
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, read_item

# The spec's four dashboard message types; what a connection may narrow its broadcasts to.
MessageType = Literal["system_metrics", "pipeline_updates", "failure_alerts", "healing_progress"]
MESSAGE_TYPES: tuple[MessageType, ...] = ("system_metrics", "pipeline_updates", "failure_alerts", "healing_progress")
SLOT_PREFIX = "CONN#"


class DashboardConnection(StoredItem):
    """One open dashboard connection, in the slot it holds."""

    connection_id: str = Field(min_length=1, max_length=256)
    tenant_id: str = Field(min_length=1, max_length=128)
    user: str = Field(min_length=1, max_length=300)
    slot: int = Field(ge=0, le=99)
    connected_at: str = Field(max_length=40)
    expires_at: int = Field(ge=0)
    # As the document has it: an authenticated connection receives every message type at once;
    # `subscribe` with `types` narrows them (and answers with the current `system_metrics`).
    subscribed: bool = True
    types: list[MessageType] = Field(default_factory=lambda: list(MESSAGE_TYPES), max_length=len(MESSAGE_TYPES))
    session_id: str | None = Field(default=None, max_length=200, description="the login an access token belongs to")

    def opened_before(self, moment: datetime) -> bool:
        """Whether `$connect` ran at or before `moment` (an unreadable time counts as long ago)."""
        try:
            return parse_iso(self.connected_at) <= moment
        except ValueError:
            return True

    def wants(self, kind: MessageType) -> bool:
        """Broadcasts go to every connection, of the types it wants (all unless narrowed by `subscribe`)."""
        return self.subscribed and kind in self.types


class DashboardConnectionStore(Protocol):
    def claim(self, connection: DashboardConnection, *, now_epoch: int) -> bool:
        """Take `connection.slot` if free or expired at `now_epoch`, and route its id there; False when held."""
        ...

    def of_user(self, tenant_id: str, user: str) -> list[DashboardConnection]:
        """Every slot the user holds, expired ones included (they say when a slot frees)."""
        ...

    def of_tenant(self, tenant_id: str, *, now_epoch: int) -> list[DashboardConnection]:
        """Every live connection of one tenant, and of no other; malformed items are logged and skipped."""
        ...

    def find(self, connection_id: str) -> DashboardConnection | None:
        """The connection in the slot its route names, or None (unknown id, or the slot was reclaimed)."""
        ...

    def subscribe(self, connection_id: str, types: list[MessageType], *, now_epoch: int) -> DashboardConnection | None:
        """Narrow the live connection's broadcasts to `types`; None when it is unknown or expired."""
        ...

    def disconnect(self, connection_id: str) -> bool:
        """Free the slot (if it still holds this id) and forget the route; False when the slot was not freed."""
        ...

    def remove(self, connection: DashboardConnection) -> None:
        """Free the connection's slot (if it still holds it) and forget its route."""
        ...


def _read(item: dict[str, Any] | None) -> DashboardConnection | None:
    fields = {k: v for k, v in (item or {}).items() if k not in {"pk", "sk", "entity"}}  # keeps its `expires_at`
    return read_item(DashboardConnection, item, "dashboard connection", fields)


class DynamoDashboardConnectionStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def _slot_key(self, connection: DashboardConnection) -> dict[str, str]:
        return keys.dashboard_slot_key(connection.tenant_id, connection.user, connection.slot)

    def _route_slot(self, connection_id: str) -> dict[str, str] | None:
        route = self.table.get(keys.dashboard_connection_route_key(connection_id))
        if route is None or not route.get("tenant_id") or not route.get("slot_sk"):
            return None
        return {"pk": keys.dashboard_connections_pk(str(route["tenant_id"])), "sk": str(route["slot_sk"])}

    def _release(self, slot_key: dict[str, str], connection_id: str) -> bool:
        return self.table.delete_if(slot_key, "connection_id = :cid", {":cid": connection_id})

    def claim(self, connection: DashboardConnection, *, now_epoch: int) -> bool:
        slot_key = self._slot_key(connection)
        claimed = self.table.set_fields(
            slot_key,
            {"entity": "dashboard_connection", **connection.model_dump(mode="json")},
            condition="attribute_not_exists(pk) OR expires_at < :now",
            condition_values={":now": now_epoch},
        )
        if claimed is None:
            return False
        try:
            self.table.put(
                {
                    **keys.dashboard_connection_route_key(connection.connection_id),
                    "entity": "dashboard_connection_route",
                    "tenant_id": connection.tenant_id,
                    "slot_sk": slot_key["sk"],
                    "expires_at": connection.expires_at,
                }
            )
        except Exception:
            self._release(slot_key, connection.connection_id)  # a failed connect must not hold a slot for hours
            raise
        return True

    def of_user(self, tenant_id: str, user: str) -> list[DashboardConnection]:
        found = (_read(i) for i in self.table.query(keys.dashboard_connections_pk(tenant_id), f"{SLOT_PREFIX}{user}#"))
        return [c for c in found if c is not None and c.tenant_id == tenant_id]

    def of_tenant(self, tenant_id: str, *, now_epoch: int) -> list[DashboardConnection]:
        found = (_read(i) for i in self.table.query(keys.dashboard_connections_pk(tenant_id), SLOT_PREFIX))
        return [c for c in found if c is not None and c.tenant_id == tenant_id and c.expires_at > now_epoch]

    def find(self, connection_id: str) -> DashboardConnection | None:
        slot_key = self._route_slot(connection_id)
        found = _read(self.table.get(slot_key)) if slot_key else None
        return found if found is not None and found.connection_id == connection_id else None

    def subscribe(self, connection_id: str, types: list[MessageType], *, now_epoch: int) -> DashboardConnection | None:
        slot_key = self._route_slot(connection_id)
        if slot_key is None:
            return None
        updated = self.table.set_fields(
            slot_key,
            {"subscribed": True, "types": list(types)},
            condition="connection_id = :cid AND expires_at > :now",
            condition_values={":cid": connection_id, ":now": now_epoch},
        )
        return _read(updated)

    def disconnect(self, connection_id: str) -> bool:
        slot_key = self._route_slot(connection_id)
        if slot_key is None:
            return False
        released = self._release(slot_key, connection_id)
        self.table.delete(keys.dashboard_connection_route_key(connection_id))
        return released

    def remove(self, connection: DashboardConnection) -> None:
        self._release(self._slot_key(connection), connection.connection_id)
        self.table.delete(keys.dashboard_connection_route_key(connection.connection_id))


SlotKey = tuple[str, str, int]  # (tenant, user, slot)


class InMemoryDashboardConnectionStore:
    """The same promises in memory, for unit tests of the services."""

    def __init__(self) -> None:
        self.slots: MemoryTable[SlotKey, DashboardConnection] = MemoryTable()
        self.routes: dict[str, SlotKey] = {}
        self._lock = threading.RLock()  # a claim or a release is one step, as DynamoDB's conditional write is

    def claim(self, connection: DashboardConnection, *, now_epoch: int) -> bool:
        key = (connection.tenant_id, connection.user, connection.slot)
        with self._lock:
            if not self.slots.put_new(key, connection):
                taken = self.slots.update(key, lambda held: connection if held.expires_at < now_epoch else None)
                if taken is None:
                    return False
            self.routes[connection.connection_id] = key
            return True

    def of_user(self, tenant_id: str, user: str) -> list[DashboardConnection]:
        return sorted(self.slots.values(lambda k: k[:2] == (tenant_id, user)), key=lambda c: c.slot)

    def of_tenant(self, tenant_id: str, *, now_epoch: int) -> list[DashboardConnection]:
        live = [c for c in self.slots.values(lambda k: k[0] == tenant_id) if c.expires_at > now_epoch]
        return sorted(live, key=lambda c: (c.user, c.slot))

    def find(self, connection_id: str) -> DashboardConnection | None:
        key = self.routes.get(connection_id)
        found = self.slots.get(key) if key else None
        return found if found is not None and found.connection_id == connection_id else None

    def subscribe(self, connection_id: str, types: list[MessageType], *, now_epoch: int) -> DashboardConnection | None:
        key = self.routes.get(connection_id)
        if key is None:
            return None

        def narrow(held: DashboardConnection) -> DashboardConnection | None:
            if held.connection_id != connection_id or held.expires_at <= now_epoch:
                return None
            return held.model_copy(update={"subscribed": True, "types": list(types)})

        return self.slots.update(key, narrow)

    def _release(self, key: SlotKey, connection_id: str) -> bool:
        with self._lock:
            held = self.slots.get(key)
            if held is None or held.connection_id != connection_id:
                return False
            self.slots.delete(key)
            return True

    def disconnect(self, connection_id: str) -> bool:
        with self._lock:
            key = self.routes.pop(connection_id, None)
            return self._release(key, connection_id) if key else False

    def remove(self, connection: DashboardConnection) -> None:
        with self._lock:
            self._release((connection.tenant_id, connection.user, connection.slot), connection.connection_id)
            self.routes.pop(connection.connection_id, None)
