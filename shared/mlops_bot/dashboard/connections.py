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

from mlops_bot.access.api_keys import Principal
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.dashboard.messages import MESSAGE_TYPES, MessageType
from mlops_bot.errors import Forbidden, NotFound, RateLimited, Unauthorized
from mlops_bot.stores.dashboard_connections import DashboardConnection, DashboardConnectionStore

__all__ = [
    "DashboardConnection",
    "authorization",
    "connect",
    "disconnect",
    "lookup",
    "register",
    "remove",
    "subscribe",
    "tenant_connections",
    "user_of",
]

CONNECTION_TTL_SECONDS = 2 * 3600  # API Gateway's maximum WebSocket connection duration
MAX_CONNECTIONS_PER_USER = 10  # the spec's limit


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
    store: DashboardConnectionStore,
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
    return register(store, principal, connection_id, now)


def register(
    store: DashboardConnectionStore, principal: Principal, connection_id: str, now: datetime | None = None
) -> DashboardConnection:
    """Claim the user's first free (or expired) slot for the connection; RateLimited when all ten are held."""
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
        if store.claim(connection, now_epoch=now_epoch):
            return connection
    raise RateLimited(
        "Too many dashboard connections",
        retry_after=_seconds_until_a_slot_frees(store, principal.tenant_id, user, now_epoch),
        details=f"At most {MAX_CONNECTIONS_PER_USER} dashboard connections per user; close one first",
    )


def _seconds_until_a_slot_frees(store: DashboardConnectionStore, tenant_id: str, user: str, now_epoch: int) -> int:
    soonest = min((c.expires_at for c in store.of_user(tenant_id, user)), default=now_epoch)
    return max(1, soonest - now_epoch)


def lookup(
    store: DashboardConnectionStore, connection_id: str, now: datetime | None = None
) -> DashboardConnection | None:
    """The live connection with this id, or None when unknown, expired or its slot was reclaimed."""
    connection = store.find(connection_id)
    return connection if connection and connection.expires_at > epoch_seconds(now or utc_now()) else None


def subscribe(
    store: DashboardConnectionStore,
    connection_id: str,
    types: list[MessageType] | None = None,
    now: datetime | None = None,
) -> DashboardConnection:
    """Start broadcasts to this connection (of `types`, default all); NotFound once it has expired."""
    wanted = list(dict.fromkeys(types)) if types else list(MESSAGE_TYPES)
    updated = store.subscribe(connection_id, wanted, now_epoch=epoch_seconds(now or utc_now()))
    if updated is None:
        raise NotFound("Connection not found", "The connection is unknown or expired; reconnect")
    return updated


def disconnect(store: DashboardConnectionStore, connection_id: str) -> bool:
    """`$disconnect`: free the slot and forget the id. False when it was already gone."""
    return store.disconnect(connection_id)


def remove(store: DashboardConnectionStore, connection: DashboardConnection) -> None:
    """Forget a connection API Gateway reported gone (410): its `$disconnect` may never come."""
    store.remove(connection)


def tenant_connections(
    store: DashboardConnectionStore, tenant_id: str, now: datetime | None = None
) -> list[DashboardConnection]:
    """Every live connection of one tenant, and of no other."""
    return store.of_tenant(tenant_id, now_epoch=epoch_seconds(now or utc_now()))
