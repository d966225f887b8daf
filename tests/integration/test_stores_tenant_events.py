"""`EventStore.of_tenant` (what failure prediction learns from) keeps one promise on DynamoDB and in memory.

Every kept event of the tenant, whatever its repository, oldest first; another tenant's events and a
malformed stored item are left out, never a failed listing. One moto table per module, a fresh
tenant per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.events import DynamoEventStore, EventRecord, EventStore, InMemoryEventStore
from tests.support.aws import create_state

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def events(request: pytest.FixtureRequest, table: StateTable) -> EventStore:
    return DynamoEventStore(table) if request.param == "dynamodb" else InMemoryEventStore()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def event(tenant: str, repository: str, minutes: int, delivery: str) -> EventRecord:
    at = datetime(2026, 11, 25, 10, tzinfo=UTC) + timedelta(minutes=minutes)
    return EventRecord(
        tenant_id=tenant,
        repository=repository,
        delivery_id=delivery,
        execution_id=f"x-{delivery}",
        received_at=at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        summary={"event": "workflow_run", "action": "completed", "conclusion": "failure", "run_id": minutes},
    )


def test_the_tenants_events_of_every_repository_come_oldest_first(events: EventStore, tenant: str) -> None:
    events.record(event(tenant, "acme/b", 5, "d-3"), expires=EXPIRES)
    events.record(event(tenant, "acme/a", 1, "d-1"), expires=EXPIRES)
    events.record(event(tenant, "acme/a", 3, "d-2"), expires=EXPIRES)
    events.record(event(tenant, "acme/a", 3, "d-2"), expires=EXPIRES)  # a redelivery is kept once
    events.record(event(f"{tenant}-other", "acme/a", 2, "d-9"), expires=EXPIRES)

    listed = events.of_tenant(tenant)

    assert [(e.repository, e.delivery_id) for e in listed] == [("acme/a", "d-1"), ("acme/a", "d-2"), ("acme/b", "d-3")]
    assert listed[0].summary["conclusion"] == "failure" and listed[0].summary["run_id"] == 1
    assert events.of_tenant(f"{tenant}-nobody") == []


def test_a_malformed_stored_event_is_skipped_not_a_failure(table: StateTable, tenant: str) -> None:
    store = DynamoEventStore(table)
    store.record(event(tenant, "acme/a", 1, "d-1"), expires=EXPIRES)
    table.put(
        {
            **keys.event_key(tenant, "acme/a", "2026-11-25T10:02:00.000000Z", "d-bad"),
            "gsi1pk": keys.events_index(tenant),
            "gsi1sk": "2026-11-25T10:02:00.000000Z#d-bad",
            "entity": "event",
            "repository": "acme/a",  # no tenant, delivery or time: written by hand, long ago
        }
    )

    assert [e.delivery_id for e in store.of_tenant(tenant)] == ["d-1"]


def test_a_window_keeps_the_events_received_in_it_bounds_included(events: EventStore, tenant: str) -> None:
    for minutes in (0, 10, 20, 30):
        events.record(event(tenant, "acme/a", minutes, f"d-{minutes}"), expires=EXPIRES)
    start = datetime(2026, 11, 25, 10, 10, tzinfo=UTC)

    inside = events.of_tenant(tenant, since=start, until=start + timedelta(minutes=10))
    after = events.of_tenant(tenant, since=start)
    before = events.of_tenant(tenant, until=start)

    assert [e.delivery_id for e in inside] == ["d-10", "d-20"]
    assert [e.delivery_id for e in after] == ["d-10", "d-20", "d-30"]
    assert [e.delivery_id for e in before] == ["d-0", "d-10"]
