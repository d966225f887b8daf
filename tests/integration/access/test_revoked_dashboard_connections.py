"""Revoking a credential closes the dashboard sockets it opened (the broadcaster, against moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from mlops_bot.access import api_keys, users
from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.dashboard import connections
from mlops_bot.dashboard.broadcast import StreamBatch
from mlops_bot.dashboard.messages import StreamChange
from mlops_bot.dashboard.revocation import CredentialCheck
from mlops_bot.detection.incidents import Incident, TimelineEntry, incident_item
from mlops_bot.management.accounts import tenants
from mlops_bot.management.platform.settings import ManagementSettings
from mlops_bot.storage import keys
from mlops_bot.stores.dashboard_connections import DynamoDashboardConnectionStore
from tests.support.aws import MockState
from tests.support.stores import (
    access_stores,
    api_key_stores,
    broadcast_dependencies,
    credential_check,
    tenant_stores,
)

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TENANT = "acme"
SECRET = "integration-jwt-secret-with-at-least-32-chars"
PASSWORD = "correct horse battery staple"


class Gateway:
    """API Gateway's management API as the broadcaster sees it: posts and closes."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.closed: list[str] = []

    def post(self, connection_id: str, data: bytes) -> None:
        self.posts.append((connection_id, json.loads(data)))

    def close(self, connection_id: str) -> None:
        self.closed.append(connection_id)

    def received(self, connection_id: str) -> int:
        return sum(1 for target, _ in self.posts if target == connection_id)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table(aws: MockState) -> StateTable:
    return StateTable(aws.table_name)


def _watch(table: StateTable, principal: Principal, connection_id: str) -> None:
    connections.register(DynamoDashboardConnectionStore(table), principal, connection_id, now=T0)
    connections.subscribe(DynamoDashboardConnectionStore(table), connection_id, now=T0)


def _batch(table: StateTable, gateway: Gateway, check: CredentialCheck | None = None) -> StreamBatch:
    return StreamBatch(broadcast_dependencies(table, gateway, credentials=check, now=lambda: T0))


def _modify(table: StateTable, key: dict[str, str], before: dict[str, Any]) -> StreamChange:
    """The stream record of the write that changed `before` into what the table holds now."""
    after = table.get(key)
    assert after is not None
    return StreamChange(event_name="MODIFY", sequence_number="1", keys=key, new=after, old=before)


def _incident_change() -> StreamChange:
    model = Incident(
        id="inc-1",
        tenant_id=TENANT,
        repository="acme/model",
        type="pipeline_failure",
        severity="high",
        description="Workflow 'CI' failure on main",
        detected_at="2026-11-25T09:00:00.000000Z",
        timeline=[TimelineEntry(event="issue_detected", timestamp="2026-11-25T09:00:00.000000Z")],
    )
    item = incident_item(model)
    return StreamChange(
        event_name="INSERT", sequence_number="2", keys={"pk": item["pk"], "sk": item["sk"]}, new=item, old=None
    )


def test_revoking_an_api_key_closes_every_socket_it_opened_and_no_other(table: StateTable) -> None:
    _, revoked = api_keys.generate(api_key_stores(table), TENANT, "wallboard", ["read"])
    _, kept = api_keys.generate(api_key_stores(table), TENANT, "ops", ["read"])
    _watch(table, revoked, "conn-a1")
    _watch(table, revoked, "conn-a2")
    _watch(table, kept, "conn-b")
    key = keys.api_key_key(TENANT, revoked.key_id)
    before = table.get(key)
    assert before is not None
    api_keys.revoke(api_key_stores(table), revoked.key_id, TENANT)

    gateway = Gateway()
    batch = _batch(table, gateway)
    batch.deliver(_modify(table, key, before))
    batch.deliver(_incident_change())
    batch.finish()

    assert sorted(gateway.closed) == ["conn-a1", "conn-a2"]
    assert gateway.received("conn-a1") == gateway.received("conn-a2") == 0
    assert gateway.received("conn-b") >= 1
    assert {
        c.connection_id for c in connections.tenant_connections(DynamoDashboardConnectionStore(table), TENANT, T0)
    } == {"conn-b"}


def test_ending_a_login_closes_the_sockets_of_that_login_only(table: StateTable) -> None:
    settings = ManagementSettings.model_validate({"MLOPS_BOT_JWT_SECRET": SECRET, "MLOPS_BOT_OPERATOR_TENANT": TENANT})
    tenants.add_user(tenant_stores(table), TENANT, "dana@example.com", PASSWORD, "read")
    ended = users.login(access_stores(table), settings, SECRET, "dana@example.com", PASSWORD)
    other = users.login(access_stores(table), settings, SECRET, "dana@example.com", PASSWORD)
    _watch(table, users.authenticate_access_token(access_stores(table), SECRET, ended.access_token), "conn-ended")
    _watch(table, users.authenticate_access_token(access_stores(table), SECRET, other.access_token), "conn-other")
    family = users.tokens.decode(SECRET, ended.refresh_token, "refresh").fam
    assert family is not None
    key = keys.token_family_key(TENANT, family)
    before = table.get(key)
    assert before is not None
    users.revoke(access_stores(table), SECRET, ended.refresh_token)

    gateway = Gateway()
    batch = _batch(table, gateway)
    batch.deliver(_modify(table, key, before))
    batch.finish()

    assert gateway.closed == ["conn-ended"]
    assert [
        c.connection_id for c in connections.tenant_connections(DynamoDashboardConnectionStore(table), TENANT, T0)
    ] == ["conn-other"]


def test_a_missed_revocation_still_closes_the_socket_before_the_next_broadcast_within_a_minute(
    table: StateTable,
) -> None:
    _, principal = api_keys.generate(api_key_stores(table), TENANT, "wallboard", ["read"])
    _watch(table, principal, "conn-1")
    clock = Clock()
    check = credential_check(table, clock=clock)
    gateway = Gateway()

    first = _batch(table, gateway, check)
    first.deliver(_incident_change())
    first.finish()
    streamed = gateway.received("conn-1")
    assert streamed >= 1

    api_keys.revoke(api_key_stores(table), principal.key_id, TENANT)  # its stream record never reaches the broadcaster
    clock.now += 60
    later = _batch(table, gateway, check)
    later.deliver(_incident_change())
    later.finish()
    assert gateway.closed == ["conn-1"]
    assert gateway.received("conn-1") == streamed
