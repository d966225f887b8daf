"""Who is watching: one item per open dashboard connection, tenant first, at most 10 per user.

The spec allows 10 WebSocket connections per user. Each user owns ten slots
(`TENANT#t#DASHBOARD` / `CONN#<user>#00..09`); connecting claims the first free or expired slot
with one conditional write, so two tabs opening at once can never make eleven, and a connection
that vanished without a `$disconnect` frees its slot when it expires. Items live two hours, the
longest API Gateway keeps a WebSocket open, and DynamoDB's TTL removes them; since TTL deletion is
lazy, every read also ignores expired items.

A second item keyed by the connection id (under the reserved `_system` tenant) finds the slot
again for `$disconnect` and `subscribe`, which carry nothing but that id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.dashboard.messages import MESSAGE_TYPES, MessageType
from mlops_bot.errors import Forbidden, NotFound, RateLimited, Unauthorized
from mlops_bot.storage import keys

CONNECTION_TTL_SECONDS = 2 * 3600  # API Gateway's maximum WebSocket connection duration
MAX_CONNECTIONS_PER_USER = 10  # the spec's limit
_FREE_SLOT = "attribute_not_exists(pk) OR expires_at < :now"


class DashboardConnection(BaseModel):
    connection_id: str
    tenant_id: str
    user: str
    slot: int
    connected_at: str
    expires_at: int
    # As the document has it: an authenticated connection receives every message type at once;
    # `subscribe` with `types` narrows them (and answers with the current `system_metrics`).
    subscribed: bool = True
    types: list[MessageType] = Field(default_factory=lambda: list(MESSAGE_TYPES))
    session_id: str | None = Field(default=None, description="the login a user's access token belongs to")

    def wants(self, kind: MessageType) -> bool:
        """Broadcasts go to every connection, of the types it wants (all unless narrowed by `subscribe`)."""
        return self.subscribed and kind in self.types


def user_of(principal: Principal) -> str:
    """The limit counts per user: an API key and a login are different users."""
    return f"{principal.kind}:{principal.key_id}"


def authorization(query: Mapping[str, str] | None, headers: Mapping[str, str] | None) -> str | None:
    """The `Authorization` value a `$connect` presents.

    Browsers cannot set headers on a WebSocket, so the credential may come as `?api_key=` or
    `?token=` (an access token from `/auth/login` is the better choice there: it expires within
    the hour); other clients may send the header itself.
    """
    query = query or {}
    for name in ("token", "api_key"):
        if query.get(name):
            return f"Bearer {query[name]}"
    for name, value in (headers or {}).items():
        if name.lower() == "authorization" and value:
            return value
    return None


def connect(
    table: StateTable,
    authenticate: Callable[[str | None], Principal],
    connection_id: str,
    query: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    now: datetime | None = None,
) -> DashboardConnection:
    """`$connect`: authenticate the caller (Unauthorized / Forbidden), then claim a slot (RateLimited)."""
    credential = authorization(query, headers)
    if credential is None:
        raise Unauthorized("Authentication required", "Connect with ?api_key=<key>, ?token=<jwt> or Authorization")
    principal = authenticate(credential)
    if not principal.can("read"):
        raise Forbidden("Insufficient permissions", "The dashboard needs 'read'")
    return register(table, principal, connection_id, now)


def register(
    table: StateTable, principal: Principal, connection_id: str, now: datetime | None = None
) -> DashboardConnection:
    moment = now or utc_now()
    now_epoch = epoch_seconds(moment)
    user = user_of(principal)
    expires_at = epoch_seconds(moment + timedelta(seconds=CONNECTION_TTL_SECONDS))
    for slot in range(MAX_CONNECTIONS_PER_USER):
        connection = DashboardConnection(
            connection_id=connection_id,
            tenant_id=principal.tenant_id,
            user=user,
            slot=slot,
            connected_at=iso(moment),
            expires_at=expires_at,
            session_id=principal.session_id,
        )
        slot_key = keys.dashboard_slot_key(principal.tenant_id, user, slot)
        claimed = table.set_fields(
            slot_key,
            {"entity": "dashboard_connection", **connection.model_dump()},
            condition=_FREE_SLOT,
            condition_values={":now": now_epoch},
        )
        if claimed is not None:
            break
    else:
        raise RateLimited(
            "Too many dashboard connections",
            retry_after=_seconds_until_a_slot_frees(table, principal.tenant_id, user, now_epoch),
            details=f"At most {MAX_CONNECTIONS_PER_USER} dashboard connections per user; close one first",
        )
    try:
        table.put(
            {
                **keys.dashboard_connection_route_key(connection_id),
                "entity": "dashboard_connection_route",
                "tenant_id": principal.tenant_id,
                "slot_sk": slot_key["sk"],
                "expires_at": expires_at,
            }
        )
    except Exception:
        _release(table, slot_key, connection_id)  # a failed connect must not hold a slot for two hours
        raise
    return connection


def _seconds_until_a_slot_frees(table: StateTable, tenant_id: str, user: str, now_epoch: int) -> int:
    slots = table.query(keys.dashboard_connections_pk(tenant_id), f"CONN#{user}#")
    soonest = min((int(s.get("expires_at", now_epoch)) for s in slots), default=now_epoch)
    return max(1, soonest - now_epoch)


def _release(table: StateTable, slot_key: Mapping[str, str], connection_id: str) -> bool:
    """Free a slot if it still holds this connection (a reconnect may already have reclaimed it)."""
    return table.delete_if(slot_key, "connection_id = :cid", {":cid": connection_id})


def _slot_key(route: Mapping[str, Any]) -> dict[str, str]:
    return {"pk": keys.dashboard_connections_pk(str(route["tenant_id"])), "sk": str(route["slot_sk"])}


def lookup(table: StateTable, connection_id: str, now: datetime | None = None) -> DashboardConnection | None:
    """The live connection with this id, or None when unknown, expired or its slot was reclaimed."""
    route = table.get(keys.dashboard_connection_route_key(connection_id))
    if route is None:
        return None
    item = table.get(_slot_key(route))
    if item is None or item.get("connection_id") != connection_id:
        return None
    connection = DashboardConnection.model_validate(item)
    return connection if connection.expires_at > epoch_seconds(now or utc_now()) else None


def subscribe(
    table: StateTable, connection_id: str, types: list[MessageType] | None = None, now: datetime | None = None
) -> DashboardConnection:
    """Start broadcasts to this connection (of `types`, default all); NotFound once it has expired."""
    route = table.get(keys.dashboard_connection_route_key(connection_id))
    wanted = list(dict.fromkeys(types)) if types else list(MESSAGE_TYPES)
    updated = None
    if route is not None:
        updated = table.set_fields(
            _slot_key(route),
            {"subscribed": True, "types": wanted},
            condition="connection_id = :cid AND expires_at > :now",
            condition_values={":cid": connection_id, ":now": epoch_seconds(now or utc_now())},
        )
    if updated is None:
        raise NotFound("Connection not found", "The connection is unknown or expired; reconnect")
    return DashboardConnection.model_validate(updated)


def disconnect(table: StateTable, connection_id: str) -> bool:
    """`$disconnect`: free the slot and forget the id. False when it was already gone."""
    route = table.get(keys.dashboard_connection_route_key(connection_id))
    if route is None:
        return False
    released = _release(table, _slot_key(route), connection_id)
    table.delete(keys.dashboard_connection_route_key(connection_id))
    return released


def remove(table: StateTable, connection: DashboardConnection) -> None:
    """Forget a connection API Gateway reported gone (410): its `$disconnect` may never come."""
    _release(
        table, keys.dashboard_slot_key(connection.tenant_id, connection.user, connection.slot), connection.connection_id
    )
    table.delete(keys.dashboard_connection_route_key(connection.connection_id))


def tenant_connections(table: StateTable, tenant_id: str, now: datetime | None = None) -> list[DashboardConnection]:
    """Every live connection of one tenant, and of no other."""
    now_epoch = epoch_seconds(now or utc_now())
    items = table.query(keys.dashboard_connections_pk(tenant_id), "CONN#")
    return [
        DashboardConnection.model_validate(i)
        for i in items
        if int(i.get("expires_at", 0)) > now_epoch and i.get("tenant_id") == tenant_id
    ]
