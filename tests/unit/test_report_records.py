"""The reports' listings of a tenant's incidents and events, on the in-memory stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mlops_bot.clock import iso
from mlops_bot.management.reports import records
from mlops_bot.stores.events import EventRecord, InMemoryEventStore
from mlops_bot.stores.incidents import Incident, InMemoryIncidentStore

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _incident(tenant: str, incident_id: str, detected: datetime) -> Incident:
    return Incident(
        id=incident_id,
        tenant_id=tenant,
        repository="acme/model",
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at=iso(detected),
    )


def _event(store: InMemoryEventStore, tenant: str, delivery: str, received: datetime) -> None:
    store.record(
        EventRecord(
            tenant_id=tenant,
            repository="acme/model",
            delivery_id=delivery,
            execution_id="x",
            received_at=iso(received),
            summary={"event": "push"},
        ),
        expires=received + timedelta(days=90),
    )


def test_a_tenants_incidents_are_listed_newest_first_and_only_its_own() -> None:
    store = InMemoryIncidentStore()
    for incident in (
        _incident("t1", "old", NOW - timedelta(days=2)),
        _incident("t1", "new", NOW),
        _incident("t2", "theirs", NOW),
    ):
        store.open_or_update(incident)
    assert [i.id for i in records.tenant_incidents(store, "t1")] == ["new", "old"]


def test_a_window_without_a_zone_means_utc() -> None:
    store = InMemoryEventStore()
    _event(store, "t1", "before", NOW - timedelta(hours=3))
    _event(store, "t1", "inside", NOW - timedelta(hours=1))
    _event(store, "t2", "theirs", NOW - timedelta(hours=1))
    naive_since = (NOW - timedelta(hours=2)).replace(tzinfo=None)
    found = records.tenant_events(store, "t1", naive_since, NOW.replace(tzinfo=None))
    assert [e.delivery_id for e in found] == ["inside"]
    assert [e.delivery_id for e in records.tenant_events(store, "t1")] == ["before", "inside"]


def test_a_records_size_counts_its_fields_whether_a_model_or_a_dict() -> None:
    incident = _incident("t1", "inc-1", NOW)
    as_dict = incident.model_dump(mode="json", exclude_none=True)
    assert records.item_bytes(incident) == records.item_bytes(as_dict) > len("inc-1")
    bigger = incident.model_copy(update={"description": "x" * 1000})
    assert records.item_bytes(bigger) - records.item_bytes(incident) == 1000 - len("CI failed")
