"""Playbook settings and releases, and the incident writes of the playbook steps: one contract, two stores.

Both implementations (DynamoDB on moto, and in memory) are held to the same behaviour here, so the
steps' unit tests on the in-memory stores say something true of the deployed bot.
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
from mlops_bot.stores.incidents import (
    DynamoIncidentStore,
    Incident,
    IncidentStatus,
    IncidentStore,
    InMemoryIncidentStore,
    NotificationSent,
    TimelineEntry,
    TimelineEvent,
    Verification,
)
from mlops_bot.stores.playbook_settings import (
    DynamoPlaybookSettingsStore,
    InMemoryPlaybookSettingsStore,
    PlaybookRelease,
    PlaybookSetting,
    PlaybookSettingsStore,
)
from tests.support.aws import create_state

NOW = "2026-11-25T10:00:00.000000Z"
LATER = "2026-11-26T10:00:00.000000Z"


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@dataclass
class Stores:
    tenant: str
    settings: PlaybookSettingsStore
    incidents: IncidentStore


@pytest.fixture(params=["dynamodb", "memory"])
def stores(request: pytest.FixtureRequest, table: StateTable) -> Stores:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    if request.param == "dynamodb":
        return Stores(tenant, DynamoPlaybookSettingsStore(table), DynamoIncidentStore(table))
    return Stores(tenant, InMemoryPlaybookSettingsStore(), InMemoryIncidentStore())


def switch(tenant: str, playbook: str, enabled: bool) -> PlaybookSetting:
    return PlaybookSetting(
        tenant_id=tenant, playbook=playbook, enabled=enabled, reason="noisy", updated_at=NOW, updated_by="key-1"
    )


def incident(tenant: str, incident_id: str = "inc-1", status: IncidentStatus = IncidentStatus.OPEN) -> Incident:
    return Incident(
        id=incident_id,
        tenant_id=tenant,
        repository="acme/model",
        type="pipeline_failure",
        severity="high",
        status=status,
        description="CI failed",
        detected_at=NOW,
    )


# ------------------------------------------------------------------ playbook settings


def test_a_switch_is_the_tenants_own_and_the_last_one_saved_wins(stores: Stores) -> None:
    assert stores.settings.setting(stores.tenant, "pipeline_failure_fix") is None
    stores.settings.save_setting(switch(stores.tenant, "pipeline_failure_fix", False))
    stores.settings.save_setting(switch(stores.tenant, "flaky_test_response", False))
    stores.settings.save_setting(switch(stores.tenant, "pipeline_failure_fix", True))
    found = stores.settings.setting(stores.tenant, "pipeline_failure_fix")
    assert found is not None and found.enabled and found.updated_by == "key-1"
    assert {name: s.enabled for name, s in stores.settings.settings(stores.tenant).items()} == {
        "pipeline_failure_fix": True,
        "flaky_test_response": False,
    }
    assert stores.settings.settings(f"{stores.tenant}-other") == {}
    assert stores.settings.setting(f"{stores.tenant}-other", "pipeline_failure_fix") is None


def test_a_release_is_recorded_by_its_first_writer_and_revised_once_per_change(stores: Stores) -> None:
    name = f"playbook-{stores.tenant}"  # releases are the deployment's, not a tenant's: a name per test
    assert stores.settings.release(name) is None
    first = stores.settings.first_release(
        PlaybookRelease(playbook=name, fingerprint="a", created_at=NOW, updated_at=NOW)
    )
    late = stores.settings.first_release(
        PlaybookRelease(playbook=name, fingerprint="b", created_at=LATER, updated_at=LATER)
    )
    assert (first.fingerprint, late.fingerprint, late.created_at) == ("a", "a", NOW)
    revised = stores.settings.new_revision(name, "b", seen="a", at=LATER)
    assert revised is not None and (revised.revision, revised.fingerprint, revised.updated_at) == (2, "b", LATER)
    assert stores.settings.new_revision(name, "b", seen="a", at=LATER) is None  # another request got there first
    found = stores.settings.release(name)
    assert found is not None and (found.revision, found.created_at) == (2, NOW)


def test_a_malformed_switch_is_skipped_not_fatal(table: StateTable) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    store = DynamoPlaybookSettingsStore(table)
    table.put({**keys.playbook_setting_key(tenant, "broken"), "enabled": "not a bool", "reason": "x" * 9000})
    table.put({**keys.playbook_setting_key(tenant, "legacy"), "enabled": False})  # written before tenant_id was
    assert list(store.settings(tenant)) == ["legacy"]
    legacy = store.setting(tenant, "legacy")
    assert legacy is not None and legacy.enabled is False and legacy.tenant_id == tenant
    assert store.setting(tenant, "broken") is None


# ------------------------------------------------------------------ incident writes of the playbook steps


def test_an_attempt_number_is_taken_once(stores: Stores) -> None:
    stores.incidents.open_or_update(incident(stores.tenant))
    assert stores.incidents.begin_attempt(stores.tenant, "inc-1", attempts_seen=0)
    assert not stores.incidents.begin_attempt(stores.tenant, "inc-1", attempts_seen=0)
    assert stores.incidents.begin_attempt(stores.tenant, "inc-1", attempts_seen=1)
    found = stores.incidents.get(stores.tenant, "inc-1")
    assert found is not None and (found.status, found.attempts) == (IncidentStatus.HEALING, 2)
    assert not stores.incidents.begin_attempt(stores.tenant, "missing", attempts_seen=0)


def test_waiting_for_verification_parks_the_token(stores: Stores) -> None:
    stores.incidents.open_or_update(incident(stores.tenant))
    waiting = Verification(task_token="token-1", branch="mlops-bot/inc-1", run_id=9, since=NOW)
    assert stores.incidents.await_verification(stores.tenant, "inc-1", waiting)
    assert not stores.incidents.await_verification(stores.tenant, "missing", waiting)
    found = stores.incidents.get(stores.tenant, "inc-1")
    assert found is not None and found.status == IncidentStatus.VERIFYING and found.verification == waiting


def test_closing_an_incident_is_recorded_once_per_key(stores: Stores) -> None:
    stores.incidents.open_or_update(incident(stores.tenant))
    stores.incidents.await_verification(stores.tenant, "inc-1", Verification(task_token="token-1"))
    entry = TimelineEntry(event=TimelineEvent.ISSUE_RESOLVED, timestamp=LATER, details="run passed")
    for expected in (True, False):  # the second: a retried step
        closed = stores.incidents.close(
            stores.tenant, "inc-1", IncidentStatus.RESOLVED, entry, once="resolved-1", resolution_time=86400
        )
        assert closed is expected
    found = stores.incidents.get(stores.tenant, "inc-1")
    assert found is not None and found.status == IncidentStatus.RESOLVED and found.verification is None
    assert (found.resolved_at, found.resolution_time, found.recorded_steps) == (LATER, 86400, ["resolved-1"])
    assert [t.event for t in found.timeline] == ["issue_resolved"]
    failed = TimelineEntry(event=TimelineEvent.ISSUE_FAILED, timestamp=LATER, details="red again")
    assert stores.incidents.close(stores.tenant, "inc-1", IncidentStatus.FAILED, failed, once="failed-2")
    found = stores.incidents.get(stores.tenant, "inc-1")
    assert found is not None and (found.status, found.failed_at) == (IncidentStatus.FAILED, LATER)
    assert not stores.incidents.close(stores.tenant, "missing", IncidentStatus.FAILED, failed, once="failed-1")


def test_a_skip_is_noted_and_hands_the_incident_to_a_person_when_asked(stores: Stores) -> None:
    stores.incidents.open_or_update(incident(stores.tenant))
    entry = TimelineEntry(event=TimelineEvent.HEALING_SKIPPED, timestamp=LATER, details="playbook_disabled")
    assert stores.incidents.note_skipped(stores.tenant, "inc-1", entry, awaiting_human=False)
    found = stores.incidents.get(stores.tenant, "inc-1")
    assert found is not None and found.status == IncidentStatus.OPEN and found.timeline == [entry]
    assert stores.incidents.note_skipped(stores.tenant, "inc-1", entry, awaiting_human=True)
    found = stores.incidents.get(stores.tenant, "inc-1")
    assert found is not None and found.status == IncidentStatus.AWAITING_HUMAN
    assert not stores.incidents.note_skipped(stores.tenant, "missing", entry, awaiting_human=True)


def test_notifications_are_appended(stores: Stores) -> None:
    stores.incidents.open_or_update(incident(stores.tenant))
    sent = [NotificationSent(channel="slack", result="sent", event="issue_failed", at=LATER)]
    stores.incidents.add_notifications(stores.tenant, "inc-1", sent)
    stores.incidents.add_notifications(stores.tenant, "inc-1", [])
    stores.incidents.add_notifications(stores.tenant, "inc-1", sent)
    found = stores.incidents.get(stores.tenant, "inc-1")
    assert found is not None and found.notifications == sent * 2


def test_open_incidents_are_counted_per_tenant(stores: Stores) -> None:
    for n, status in enumerate([IncidentStatus.OPEN, IncidentStatus.VERIFYING, IncidentStatus.RESOLVED]):
        stores.incidents.open_or_update(incident(stores.tenant, f"inc-{n}", status))
    stores.incidents.open_or_update(incident(f"{stores.tenant}-other", "inc-9"))
    assert stores.incidents.count_open(stores.tenant) == 2
    assert stores.incidents.count_open(f"{stores.tenant}-nobody") == 0
