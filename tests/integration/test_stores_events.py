"""The events store's tenant-wide listing (`of_tenant`) keeps one promise on DynamoDB (moto) and in memory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds, iso
from mlops_bot.storage import keys
from mlops_bot.stores.events import DynamoEventStore, EventRecord, EventStore, InMemoryEventStore
from tests.support.aws import create_state

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@dataclass
class Events:
    tenant: str
    store: EventStore


@pytest.fixture(params=["dynamodb", "memory"])
def events(request: pytest.FixtureRequest, table: StateTable) -> Events:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    return Events(tenant, DynamoEventStore(table) if request.param == "dynamodb" else InMemoryEventStore())


def _record(events: Events, received: datetime, repository: str = "acme/model", tenant: str | None = None) -> str:
    delivery = str(uuid.uuid4())
    events.store.record(
        EventRecord(
            tenant_id=tenant or events.tenant,
            repository=repository,
            delivery_id=delivery,
            execution_id="exec-1",
            received_at=iso(received),
            summary={"event": "workflow_run", "action": "completed"},
        ),
        expires=received + timedelta(days=90),
    )
    return delivery


def test_every_event_of_the_tenant_oldest_first_with_its_expiry(events: Events) -> None:
    late = _record(events, NOW - timedelta(hours=1), "acme/b")
    early = _record(events, NOW - timedelta(days=40), "acme/a")
    _record(events, NOW, tenant=f"{events.tenant}-other")
    found = events.store.of_tenant(events.tenant)
    assert [e.delivery_id for e in found] == [early, late]
    assert found[0].expires_at == epoch_seconds(NOW - timedelta(days=40) + timedelta(days=90))
    assert {e.repository for e in found} == {"acme/a", "acme/b"}


@pytest.mark.parametrize("span", [timedelta(hours=30), timedelta(days=70)])
def test_a_window_keeps_only_the_events_received_in_it(events: Events, span: timedelta) -> None:
    before = _record(events, NOW - span - timedelta(minutes=1))
    first = _record(events, NOW - span + timedelta(minutes=1))
    last = _record(events, NOW - timedelta(minutes=1))
    after = _record(events, NOW + timedelta(minutes=1))
    found = [e.delivery_id for e in events.store.of_tenant(events.tenant, since=NOW - span, until=NOW)]
    assert found == [first, last]
    assert before not in found and after not in found


def test_a_malformed_stored_event_is_skipped_not_fatal(table: StateTable) -> None:
    events = Events(f"t-{uuid.uuid4().hex[:8]}", DynamoEventStore(table))
    good = _record(events, NOW)
    table.put(
        {
            **keys.event_key(events.tenant, "acme/model", iso(NOW), "bad"),
            "gsi1pk": keys.events_index(events.tenant),
            "gsi1sk": f"{iso(NOW)}#bad",
            "entity": "event",
            "repository": "acme/model",  # no tenant, delivery or received time
        }
    )
    assert [e.delivery_id for e in events.store.of_tenant(events.tenant)] == [good]
    assert [e.delivery_id for e in events.store.list(events.tenant, "acme/model")] == [good]


def test_a_bound_without_a_zone_means_utc(events: Events) -> None:
    before = _record(events, NOW - timedelta(hours=3))
    inside = _record(events, NOW - timedelta(hours=1))
    since, until = (NOW - timedelta(hours=2)).replace(tzinfo=None), NOW.replace(tzinfo=None)
    found = [e.delivery_id for e in events.store.of_tenant(events.tenant, since=since, until=until)]
    assert found == [inside] and before not in found
