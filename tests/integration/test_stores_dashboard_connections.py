"""Dashboard connection slots and routes: one contract, held by the DynamoDB (moto) and in-memory stores.

One moto table per module, a fresh tenant per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.dashboard_connections import (
    DashboardConnection,
    DashboardConnectionStore,
    DynamoDashboardConnectionStore,
    InMemoryDashboardConnectionStore,
)
from tests.support.aws import create_state

NOW = 1_800_000_000
HOUR = 3600


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@dataclass
class Stores:
    tenant: str
    connections: DashboardConnectionStore


@pytest.fixture(params=["dynamodb", "memory"])
def stores(request: pytest.FixtureRequest, table: StateTable) -> Stores:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    if request.param == "dynamodb":
        return Stores(tenant, DynamoDashboardConnectionStore(table))
    return Stores(tenant, InMemoryDashboardConnectionStore())


def connection(
    tenant: str, connection_id: str, slot: int = 0, user: str = "api_key:k1", expires_at: int = NOW + HOUR
) -> DashboardConnection:
    return DashboardConnection(
        connection_id=connection_id,
        tenant_id=tenant,
        user=user,
        slot=slot,
        connected_at="2027-01-15T08:00:00.000000Z",
        expires_at=expires_at,
    )


def test_a_slot_is_held_by_one_connection_until_it_expires(stores: Stores) -> None:
    assert stores.connections.claim(connection(stores.tenant, "a"), now_epoch=NOW)
    assert not stores.connections.claim(connection(stores.tenant, "b"), now_epoch=NOW)
    assert stores.connections.claim(connection(stores.tenant, "b", slot=1), now_epoch=NOW)
    assert stores.connections.claim(connection(stores.tenant, "c"), now_epoch=NOW + 2 * HOUR)  # "a" expired
    found = stores.connections.find("c")
    assert found is not None and (found.slot, found.types[0]) == (0, "system_metrics")
    assert stores.connections.find("a") is None  # its slot was reclaimed
    assert [c.connection_id for c in stores.connections.of_user(stores.tenant, "api_key:k1")] == ["c", "b"]


def test_the_tenants_live_connections_and_no_one_elses(stores: Stores) -> None:
    stores.connections.claim(connection(stores.tenant, "live"), now_epoch=NOW)
    stores.connections.claim(connection(stores.tenant, "old", slot=1, expires_at=NOW - 1), now_epoch=NOW)
    stores.connections.claim(connection(f"{stores.tenant}-other", "theirs"), now_epoch=NOW)
    assert [c.connection_id for c in stores.connections.of_tenant(stores.tenant, now_epoch=NOW)] == ["live"]


def test_subscribe_narrows_a_live_connection_only(stores: Stores) -> None:
    stores.connections.claim(connection(stores.tenant, "a"), now_epoch=NOW)
    narrowed = stores.connections.subscribe("a", ["failure_alerts"], now_epoch=NOW)
    assert narrowed is not None and narrowed.types == ["failure_alerts"] and narrowed.wants("failure_alerts")
    assert not narrowed.wants("system_metrics")
    assert stores.connections.subscribe("a", ["failure_alerts"], now_epoch=NOW + 3 * HOUR) is None
    assert stores.connections.subscribe("never", ["failure_alerts"], now_epoch=NOW) is None


def test_a_late_disconnect_never_frees_a_slot_another_connection_reclaimed(stores: Stores) -> None:
    stores.connections.claim(connection(stores.tenant, "old", expires_at=NOW), now_epoch=NOW - HOUR)
    stores.connections.claim(connection(stores.tenant, "new"), now_epoch=NOW + 1)
    assert not stores.connections.disconnect("old")
    assert stores.connections.find("new") is not None
    assert stores.connections.disconnect("new")
    assert not stores.connections.disconnect("new")
    assert stores.connections.of_user(stores.tenant, "api_key:k1") == []


def test_remove_forgets_a_gone_connection(stores: Stores) -> None:
    gone = connection(stores.tenant, "gone", slot=3)
    stores.connections.claim(gone, now_epoch=NOW)
    stores.connections.remove(gone)
    assert stores.connections.find("gone") is None
    assert stores.connections.of_tenant(stores.tenant, now_epoch=NOW) == []
    assert stores.connections.claim(connection(stores.tenant, "next", slot=3), now_epoch=NOW)


def test_a_malformed_slot_is_skipped_not_fatal(table: StateTable) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    store = DynamoDashboardConnectionStore(table)
    store.claim(connection(tenant, "fine"), now_epoch=NOW)
    table.put({**keys.dashboard_slot_key(tenant, "api_key:k1", 1), "connection_id": "x", "expires_at": "soon"})
    assert [c.connection_id for c in store.of_tenant(tenant, now_epoch=NOW)] == ["fine"]
