"""The installation store keeps the same promises on DynamoDB (moto) and in memory."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.stores.installations import (
    ClaimMethod,
    DynamoInstallationStore,
    InMemoryInstallationStore,
    InstallationItem,
    InstallationStatus,
    InstallationStore,
)
from tests.support.aws import create_state


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, table: StateTable) -> InstallationStore:
    return DynamoInstallationStore(table) if request.param == "dynamodb" else InMemoryInstallationStore()


def installation(**fields: object) -> InstallationItem:
    values: dict[str, object] = {
        "installation_id": random.randint(10_000, 10_000_000),
        "account_login": "acme",
        "account_type": "Organization",
        "repositories": ["acme/a", "acme/b"],
        "created_at": "2026-11-27T10:00:00Z",
        "updated_at": "2026-11-27T10:00:00Z",
    }
    values.update(fields)
    return InstallationItem.model_validate(values)


def test_an_installation_is_recorded_unclaimed_and_reads_back_the_same(store: InstallationStore) -> None:
    item = installation()
    store.save(item)
    assert store.get(item.installation_id) == item
    assert not item.claimed
    assert store.get(item.installation_id + 1) is None


def test_one_tenant_wins_a_claim_and_saving_what_github_says_keeps_it(store: InstallationStore) -> None:
    item = installation()
    one, two = f"t-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    store.save(item)
    claimed = store.claim(item.installation_id, one, ClaimMethod.USER_TOKEN, "2026-11-27T11:00:00Z")
    assert claimed is not None and claimed.tenant_id == one
    assert store.claim(item.installation_id, two, ClaimMethod.USER_TOKEN, "2026-11-27T11:00:01Z") is None
    assert store.claim(item.installation_id, one, ClaimMethod.USER_TOKEN, "2026-11-27T11:00:02Z") is not None
    store.save(item.model_copy(update={"status": InstallationStatus.SUSPENDED, "repositories": ["acme/a"]}))
    after = store.get(item.installation_id)
    assert after is not None
    assert (after.tenant_id, after.status, after.repositories) == (one, InstallationStatus.SUSPENDED, ["acme/a"])
    assert [i.installation_id for i in store.for_tenant(one)] == [item.installation_id]
    assert store.for_tenant(two) == []


def test_a_claim_of_an_unknown_installation_is_refused_and_release_frees_it(store: InstallationStore) -> None:
    item = installation()
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    assert store.claim(item.installation_id, tenant, ClaimMethod.SETUP_STATE, "2026-11-27T11:00:00Z") is None
    store.save(item)
    store.claim(item.installation_id, tenant, ClaimMethod.SETUP_STATE, "2026-11-27T11:00:00Z")
    store.release(item.installation_id, tenant)
    assert (store.get(item.installation_id) or item).tenant_id is None
    assert store.for_tenant(tenant) == []


def test_a_claim_state_is_used_once(store: InstallationStore) -> None:
    state_id = f"jti-{random.randint(0, 10**9)}"
    assert store.use_claim_state(state_id, 2_000_000_000)
    assert not store.use_claim_state(state_id, 2_000_000_000)


def test_ignored_events_are_counted_and_saving_keeps_the_count(store: InstallationStore) -> None:
    item = installation()
    store.note_ignored(item.installation_id, "2026-11-27T11:00:00Z", "not claimed")  # unknown: nothing to count
    store.save(item)
    store.note_ignored(item.installation_id, "2026-11-27T11:00:00Z", "not claimed")
    store.note_ignored(item.installation_id, "2026-11-27T11:05:00Z", "suspended")
    store.save(item.model_copy(update={"updated_at": "2026-11-27T11:06:00Z"}))
    after = store.get(item.installation_id)
    assert after is not None
    assert (after.ignored_events, after.last_ignored_at, after.last_ignored_reason) == (
        2,
        "2026-11-27T11:05:00Z",
        "suspended",
    )


T1, T2 = "2026-11-27T10:00:00.000000Z#0", "2026-11-27T10:05:00.000000Z#2"


@pytest.mark.parametrize("newer_first", [False, True], ids=["in-order", "reordered"])
def test_an_older_status_never_overwrites_a_newer_one(store: InstallationStore, newer_first: bool) -> None:
    item = installation()
    created = item.model_copy(update={"status_order": T1})
    deleted = item.model_copy(
        update={"status": InstallationStatus.DELETED, "status_reason": "uninstalled", "status_order": T2}
    )
    first, second = (deleted, created) if newer_first else (created, deleted)
    assert store.save(first)
    assert store.save(second) is not newer_first  # False: the older status was not written
    stored = store.get(item.installation_id)
    assert stored is not None
    assert (stored.status, stored.status_reason, stored.status_order) == (InstallationStatus.DELETED, "uninstalled", T2)


def test_an_older_event_still_records_the_rest_and_an_unordered_one_keeps_the_order(store: InstallationStore) -> None:
    item = installation(status=InstallationStatus.SUSPENDED, status_order=T2)
    store.save(item)
    older = item.model_copy(
        update={"status": InstallationStatus.ACTIVE, "status_order": T1, "repositories": ["acme/c"]}
    )
    assert not store.save(older)
    kept = store.get(item.installation_id)
    assert kept is not None and (kept.status, kept.repositories) == (InstallationStatus.SUSPENDED, ["acme/c"])

    # No ordering evidence (a payload without GitHub's timestamps): applied as it comes, the order kept.
    assert store.save(item.model_copy(update={"status": InstallationStatus.ACTIVE, "status_order": None}))
    resumed = store.get(item.installation_id)
    assert resumed is not None and (resumed.status, resumed.status_order) == (InstallationStatus.ACTIVE, T2)
