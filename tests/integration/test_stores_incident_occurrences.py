"""The incident store's notes for one repair per problem keep one promise on DynamoDB (moto) and in
memory: another incident's occurrence is counted once, a note is added once, however often retried."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.stores.incidents import (
    DynamoIncidentStore,
    Incident,
    IncidentStatus,
    IncidentStore,
    InMemoryIncidentStore,
    TimelineEntry,
    TimelineEvent,
)
from tests.support.aws import create_state


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, table: StateTable) -> IncidentStore:
    return DynamoIncidentStore(table) if request.param == "dynamodb" else InMemoryIncidentStore()


@pytest.fixture
def incident(store: IncidentStore) -> Incident:
    stored = Incident(
        id="inc-1",
        tenant_id=f"t-{uuid.uuid4().hex[:8]}",
        repository="acme/model",
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at="2026-11-27T10:00:00.000000Z",
    )
    store.open_or_update(stored)
    return stored


def test_an_occurrence_from_another_incident_is_counted_once(store: IncidentStore, incident: Incident) -> None:
    entry = TimelineEntry.now(TimelineEvent.FAILURE_REPEATED, "incident inc-2 failed with the same problem")
    assert store.add_occurrence(incident.tenant_id, incident.id, entry, once="same-problem-inc-2")
    assert not store.add_occurrence(incident.tenant_id, incident.id, entry, once="same-problem-inc-2")
    assert store.add_occurrence(incident.tenant_id, incident.id, entry, once="same-problem-inc-3")
    found = store.get(incident.tenant_id, incident.id)
    assert found is not None
    assert found.occurrences == 3 and found.last_seen_at == entry.timestamp
    assert [t.event for t in found.timeline].count("failure_repeated") == 2
    assert not store.add_occurrence(incident.tenant_id, "inc-absent", entry, once="same-problem-inc-2")


def test_a_note_is_added_once_and_may_set_the_status(store: IncidentStore, incident: Incident) -> None:
    entry = TimelineEntry.now(TimelineEvent.SAME_PROBLEM, "same problem as incident inc-0, pull request #1")
    assert store.note(incident.tenant_id, incident.id, entry, once="same-problem-1-open_fix_pr")
    assert not store.note(incident.tenant_id, incident.id, entry, once="same-problem-1-open_fix_pr")
    assert store.note(incident.tenant_id, incident.id, entry, once="handed", status=IncidentStatus.AWAITING_HUMAN)
    found = store.get(incident.tenant_id, incident.id)
    assert found is not None and found.status == IncidentStatus.AWAITING_HUMAN
    assert [t.event for t in found.timeline].count("same_problem") == 2
