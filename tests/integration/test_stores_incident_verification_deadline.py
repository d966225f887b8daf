"""The incident store's verification deadline keeps one promise on DynamoDB (moto) and in memory: the
overdue incidents of one tenant are found, and each is handed to a person only while it still waits
the same wait — a run that came first wins."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.stores.incidents import (
    DynamoIncidentStore,
    Incident,
    IncidentStatus,
    IncidentStore,
    InMemoryIncidentStore,
    TimelineEntry,
    TimelineEvent,
    Verification,
)
from tests.support.aws import create_state

NOW = utc_now()
CUTOFF = NOW - timedelta(hours=24)


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, table: StateTable) -> IncidentStore:
    return DynamoIncidentStore(table) if request.param == "dynamodb" else InMemoryIncidentStore()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def stored(
    store: IncidentStore,
    tenant: str,
    incident_id: str,
    *,
    status: IncidentStatus = IncidentStatus.VERIFYING,
    since: datetime | None = None,
    detected: datetime | None = None,
) -> Incident:
    incident = Incident(
        id=incident_id,
        tenant_id=tenant,
        repository="acme/model",
        type="pipeline_failure",
        severity="high",
        status=status,
        description="CI failed",
        detected_at=iso(detected or (since or NOW) - timedelta(minutes=5)),
        verification=Verification(
            task_token=f"token-{incident_id}", branch=f"mlops-bot/{incident_id}", since=iso(since)
        )
        if since
        else None,
    )
    store.open_or_update(incident)
    return incident


def overdue_entry() -> TimelineEntry:
    return TimelineEntry.now(TimelineEvent.VERIFICATION_OVERDUE, "no run within the deadline")


def test_the_overdue_verifications_of_one_tenant_are_found(store: IncidentStore, tenant: str) -> None:
    long_ago = NOW - timedelta(hours=30)
    stored(store, tenant, "inc-overdue", since=long_ago)
    stored(store, tenant, "inc-recent", since=NOW - timedelta(hours=2))
    # detected long ago, but its (second) wait began recently: not overdue
    stored(store, tenant, "inc-new-round", since=NOW - timedelta(hours=1), detected=long_ago)
    stored(store, tenant, "inc-no-token", detected=long_ago)  # verifying, its wait left no time: since detection
    stored(store, tenant, "inc-healing", status=IncidentStatus.HEALING, since=long_ago)
    stored(store, tenant, "inc-resolved", status=IncidentStatus.RESOLVED, since=long_ago)
    stored(store, f"{tenant}-other", "inc-other-tenant", since=long_ago)
    found = store.overdue_verifications(tenant, waiting_since_before=CUTOFF)
    assert sorted(i.id for i in found) == ["inc-no-token", "inc-overdue"]
    assert all(i.tenant_id == tenant for i in found)


def test_an_overdue_incident_is_handed_to_a_person_once_and_keeps_its_token(store: IncidentStore, tenant: str) -> None:
    stored(store, tenant, "inc-1", since=NOW - timedelta(hours=30))
    entry = overdue_entry()
    assert store.expire_verification(tenant, "inc-1", entry, task_token="token-inc-1")
    assert not store.expire_verification(tenant, "inc-1", entry, task_token="token-inc-1")  # no longer verifying
    found = store.get(tenant, "inc-1")
    assert found is not None and found.status == IncidentStatus.AWAITING_HUMAN
    assert found.verification is not None and found.verification.task_token == "token-inc-1"
    assert found.verification.overdue_at == entry.timestamp
    assert [t.event for t in found.timeline] == [TimelineEvent.VERIFICATION_OVERDUE]
    assert store.overdue_verifications(tenant, waiting_since_before=CUTOFF) == []


def test_a_run_that_came_first_wins(store: IncidentStore, tenant: str) -> None:
    stored(store, tenant, "inc-1", since=NOW - timedelta(hours=30))
    resolved = TimelineEntry.now(TimelineEvent.ISSUE_RESOLVED, "run 500 passed")
    assert store.close(tenant, "inc-1", IncidentStatus.RESOLVED, resolved, once="resolved-1")
    assert not store.expire_verification(tenant, "inc-1", overdue_entry(), task_token="token-inc-1")
    found = store.get(tenant, "inc-1")
    assert found is not None and found.status == IncidentStatus.RESOLVED


def test_a_new_wait_is_not_handed_over_for_the_old_one(store: IncidentStore, tenant: str) -> None:
    stored(store, tenant, "inc-1", since=NOW - timedelta(hours=30))
    store.await_verification(tenant, "inc-1", Verification(task_token="token-round-2", since=iso(NOW)))
    assert not store.expire_verification(tenant, "inc-1", overdue_entry(), task_token="token-inc-1")
    assert not store.expire_verification(tenant, "inc-1", overdue_entry(), task_token=None)
    found = store.get(tenant, "inc-1")
    assert found is not None and found.status == IncidentStatus.VERIFYING


def test_an_incident_verifying_without_a_token_is_handed_over(store: IncidentStore, tenant: str) -> None:
    stored(store, tenant, "inc-1", detected=NOW - timedelta(hours=30))
    assert not store.expire_verification(tenant, "inc-1", overdue_entry(), task_token="token-inc-1")
    assert store.expire_verification(tenant, "inc-1", overdue_entry(), task_token=None)
    found = store.get(tenant, "inc-1")
    assert found is not None and found.status == IncidentStatus.AWAITING_HUMAN and found.verification is None
    assert not store.expire_verification(tenant, "absent", overdue_entry(), task_token=None)
