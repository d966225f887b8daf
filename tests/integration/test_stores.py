"""Each store keeps the same promises on DynamoDB (moto) and in memory: one contract, two implementations.

The services' unit tests run on the in-memory stores; this module is what makes that trustworthy.
One moto table per module, a fresh tenant per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.errors import Invalid
from mlops_bot.storage import keys
from mlops_bot.stores.actions import ActionLog, ActionRecord, ActionStatus, DynamoActionLog, InMemoryActionLog
from mlops_bot.stores.audit import AuditEntry, AuditLog, DynamoAuditLog, InMemoryAuditLog
from mlops_bot.stores.budgets import DynamoRepairBudgetStore, InMemoryRepairBudgetStore, RepairBudgetStore
from mlops_bot.stores.events import DynamoEventStore, EventRecord, EventStore, InMemoryEventStore
from mlops_bot.stores.incidents import (
    DynamoIncidentStore,
    HealingRequestState,
    Incident,
    IncidentStatus,
    IncidentStore,
    InMemoryIncidentStore,
    Verification,
)
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from tests.support.aws import create_state

REPO = "acme/model"


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@dataclass
class Stores:
    tenant: str
    repo: str  # a repository belongs to one tenant: each test enrols its own
    incidents: IncidentStore
    events: EventStore
    actions: ActionLog
    audit: AuditLog
    budgets: RepairBudgetStore


@pytest.fixture(params=["dynamodb", "memory"])
def stores(request: pytest.FixtureRequest, table: StateTable) -> Stores:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    repo = f"acme/{tenant}"
    if request.param == "dynamodb":
        enroll_repository(DynamoRepositoryStore(table), tenant, repo, source="test")
        return Stores(
            tenant,
            repo,
            DynamoIncidentStore(table),
            DynamoEventStore(table),
            DynamoActionLog(table),
            DynamoAuditLog(table),
            DynamoRepairBudgetStore(table),
        )
    return Stores(
        tenant,
        repo,
        InMemoryIncidentStore(),
        InMemoryEventStore(repositories={(tenant, repo)}),
        InMemoryActionLog(),
        InMemoryAuditLog(),
        InMemoryRepairBudgetStore(),
    )


def incident(tenant: str, incident_id: str = "inc-1", detected_at: str = "2026-11-25T10:00:00.000000Z") -> Incident:
    return Incident(
        id=incident_id,
        tenant_id=tenant,
        repository=REPO,
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at=detected_at,
        metadata={"run_id": 42, "drift_share": 0.25},
        healing_request=HealingRequestState.PENDING,
    )


# ------------------------------------------------------------------ incidents


def test_an_incident_is_stored_once_and_a_repeat_counts_an_occurrence(stores: Stores) -> None:
    first, new = stores.incidents.open_or_update(incident(stores.tenant))
    assert new and first.status == IncidentStatus.OPEN
    again, new = stores.incidents.open_or_update(incident(stores.tenant))
    assert not new and again.occurrences == 2 and [t.event for t in again.timeline] == ["failure_repeated"]
    same, _ = stores.incidents.open_or_update(incident(stores.tenant), new_occurrence=False)
    assert same.occurrences == 2
    loaded = stores.incidents.get(stores.tenant, "inc-1")
    assert loaded is not None and loaded.metadata["drift_share"] == 0.25 and loaded.type == "pipeline_failure"


def test_incidents_page_newest_first_with_an_opaque_cursor(stores: Stores) -> None:
    for i in range(5):
        stores.incidents.open_or_update(incident(stores.tenant, f"inc-{i}", f"2026-11-25T10:00:0{i}.000000Z"))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = stores.incidents.page(stores.tenant, limit=2, cursor=cursor)
        seen += [i.id for i in page.items]
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == ["inc-4", "inc-3", "inc-2", "inc-1", "inc-0"]
    assert [i.id for i in stores.incidents.all(stores.tenant)] == seen


def test_a_cursor_from_another_tenant_or_forged_is_refused(stores: Stores) -> None:
    for i in range(3):
        stores.incidents.open_or_update(incident(stores.tenant, f"inc-{i}", f"2026-11-25T10:00:0{i}.000000Z"))
    cursor = stores.incidents.page(stores.tenant, limit=1).cursor
    assert cursor is not None
    with pytest.raises(Invalid):
        stores.incidents.page(stores.tenant, cursor="not-a-cursor")
    if isinstance(stores.incidents, DynamoIncidentStore):
        with pytest.raises(Invalid):
            stores.incidents.page("another-tenant", cursor=cursor)


def test_a_pending_healing_request_is_marked_once_and_found_by_the_sweep_until_then(stores: Stores) -> None:
    detected = datetime(2026, 11, 25, 10, tzinfo=UTC)
    stores.incidents.open_or_update(incident(stores.tenant, detected_at="2026-11-25T10:00:00.000000Z"))
    window = {"detected_before": detected + timedelta(minutes=5), "detected_since": detected - timedelta(days=1)}
    assert [i.id for i in stores.incidents.pending_healing(stores.tenant, **window)] == ["inc-1"]
    assert (
        stores.incidents.pending_healing(
            stores.tenant, detected_before=detected, detected_since=window["detected_since"]
        )
        == []
    )
    assert stores.incidents.mark_healing_requested(stores.tenant, "inc-1")
    assert not stores.incidents.mark_healing_requested(stores.tenant, "inc-1")
    assert stores.incidents.pending_healing(stores.tenant, **window) == []


def test_a_playbook_start_is_noted_once_per_execution(stores: Stores) -> None:
    stores.incidents.open_or_update(incident(stores.tenant))
    assert stores.incidents.record_playbook_start(stores.tenant, "inc-1", "pipeline_failure_fix", "arn:1")
    assert not stores.incidents.record_playbook_start(stores.tenant, "inc-1", "pipeline_failure_fix", "arn:1")
    assert stores.incidents.record_playbook_start(stores.tenant, "inc-1", "pipeline_failure_fix", "arn:2")
    loaded = stores.incidents.get(stores.tenant, "inc-1")
    assert loaded is not None and loaded.execution_arn == "arn:2"
    assert [t.event for t in loaded.timeline].count("analysis_started") == 2


def test_an_action_reaches_the_incident_once(stores: Stores) -> None:
    stores.incidents.open_or_update(incident(stores.tenant))
    entry = {"action": "rerun_failed_jobs", "status": "done", "timestamp": "t", "details": {}}
    assert stores.incidents.record_action(stores.tenant, "inc-1", "1-rerun", entry, IncidentStatus.VERIFYING)
    assert not stores.incidents.record_action(stores.tenant, "inc-1", "1-rerun", entry, IncidentStatus.VERIFYING)
    assert stores.incidents.record_action(stores.tenant, "inc-1", "2-rerun", entry, IncidentStatus.HEALING)
    loaded = stores.incidents.get(stores.tenant, "inc-1")
    assert loaded is not None and len(loaded.actions_taken) == 2 and loaded.status == IncidentStatus.HEALING
    assert not stores.incidents.record_action(stores.tenant, "inc-missing", "1-x", entry, IncidentStatus.HEALING)


def waiting(stores: Stores) -> None:
    item = incident(stores.tenant).model_copy(
        update={"verification": Verification(task_token="tok", run_id=7), "diagnosis": {"kind": "a"}}
    )
    stores.incidents.open_or_update(item)


def test_the_verification_token_is_cleared_only_while_it_is_the_one_waiting(stores: Stores) -> None:
    waiting(stores)
    assert not stores.incidents.clear_verification(stores.tenant, "inc-1", "other", 7)
    assert stores.incidents.clear_verification(stores.tenant, "inc-1", "tok", 7)
    assert not stores.incidents.clear_verification(stores.tenant, "inc-1", "tok", 7)
    loaded = stores.incidents.get(stores.tenant, "inc-1")
    assert loaded is not None and loaded.verification is None and loaded.verified_by_run == 7


def test_a_rediagnosis_replaces_the_diagnosis_once_per_waiting_token(stores: Stores) -> None:
    waiting(stores)
    stores.incidents.rediagnose(stores.tenant, "inc-1", {"kind": "b"}, task_token="tok")
    stores.incidents.rediagnose(stores.tenant, "inc-1", {"kind": "c"}, task_token="tok")
    loaded = stores.incidents.get(stores.tenant, "inc-1")
    assert loaded is not None and loaded.verification is not None
    assert (loaded.diagnosis, loaded.previous_diagnosis, loaded.verification.rediagnosed) == (
        {"kind": "b"},
        {"kind": "a"},
        True,
    )


def test_an_incident_cannot_carry_an_infinite_number() -> None:
    with pytest.raises(ValueError):
        Incident.model_validate({**incident("t").model_dump(), "resolution_time": float("inf")})


# ------------------------------------------------------------------ events, actions, audit, budgets


def test_an_event_is_stored_once_per_delivery(stores: Stores) -> None:
    event = EventRecord(
        tenant_id=stores.tenant,
        repository=stores.repo,
        delivery_id="d-1",
        execution_id="e",
        received_at="2026-11-25T10:00:00Z",
    )
    expires = datetime(2026, 12, 25, tzinfo=UTC)
    assert stores.events.record(event, expires=expires)
    assert not stores.events.record(event, expires=expires)
    assert [e.delivery_id for e in stores.events.list(stores.tenant, stores.repo)] == ["d-1"]


def test_an_action_is_claimed_once_and_remembers_its_outcome(stores: Stores) -> None:
    record = ActionRecord(tenant_id=stores.tenant, incident_id="inc-1", action_id="1-open_fix_pr", rule="r")
    assert stores.actions.start(record)
    assert not stores.actions.start(record)
    stores.actions.finish(stores.tenant, "inc-1", "1-open_fix_pr", {"status": "done"})
    found = stores.actions.get(stores.tenant, "inc-1", "1-open_fix_pr")
    assert found is not None and found.status == ActionStatus.DONE and not found.recorded
    stores.actions.mark_recorded(stores.tenant, "inc-1", "1-open_fix_pr")
    found = stores.actions.get(stores.tenant, "inc-1", "1-open_fix_pr")
    assert found is not None and found.recorded and found.outcome == {"status": "done"}


def audit_entry(tenant: str, summary: str) -> AuditEntry:
    return AuditEntry(
        tenant_id=tenant, repository=REPO, method="POST", path="/x", summary=summary, dry_run=False, result="done"
    )


def test_an_audited_write_with_a_key_is_recorded_once(stores: Stores) -> None:
    first = stores.audit.record(audit_entry(stores.tenant, "one"), idempotency_key="inc-1/1-open_fix_pr")
    again = stores.audit.record(audit_entry(stores.tenant, "one"), idempotency_key="inc-1/1-open_fix_pr")
    stores.audit.record(audit_entry(stores.tenant, "two"))
    assert first == again == stores.audit.recorded(stores.tenant, "inc-1/1-open_fix_pr")
    assert stores.audit.recorded(stores.tenant, "never-used") is None
    page = stores.audit.page(stores.tenant, limit=10)
    assert sorted(r.summary for r in page.items) == ["one", "two"] and page.cursor is None


def test_a_write_counts_once_against_the_budget_and_the_breaker_pauses_once(stores: Stores) -> None:
    expires = datetime(2026, 11, 27, tzinfo=UTC)
    day = "2026-11-25"
    assert stores.budgets.take_write(stores.tenant, stores.repo, day, write_id="a", expires=expires) == 1
    assert stores.budgets.take_write(stores.tenant, stores.repo, day, write_id="a", expires=expires) == 1
    assert stores.budgets.take_write(stores.tenant, stores.repo, day, write_id="b", expires=expires) == 2
    assert stores.budgets.take_write(stores.tenant, stores.repo, day, write_id=None, expires=expires) == 3
    assert not stores.budgets.record_failure(stores.tenant, stores.repo, pause_at=2)
    assert stores.budgets.record_failure(stores.tenant, stores.repo, pause_at=2)
    assert not stores.budgets.record_failure(stores.tenant, stores.repo, pause_at=2)
    assert stores.budgets.paused(stores.tenant, stores.repo)


def test_keys_stay_in_the_tenants_partitions(stores: Stores) -> None:
    assert keys.audit_once_key(stores.tenant, "k")["pk"].startswith(f"TENANT#{stores.tenant}#")
