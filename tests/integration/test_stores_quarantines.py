"""The quarantine records keep one promise on DynamoDB (moto) and in memory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.quarantines import (
    DynamoQuarantineStore,
    InMemoryQuarantineStore,
    QuarantinedTest,
    QuarantineStatus,
    QuarantineStore,
)
from tests.support.aws import create_state

LONG = "tests/test_grid.py::test_search[" + "x" * 600 + "]"  # longer than a sort key keeps


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, table: StateTable) -> QuarantineStore:
    return DynamoQuarantineStore(table) if request.param == "dynamodb" else InMemoryQuarantineStore()


def record(
    tenant: str, repository: str, test_id: str, at: str = "2026-11-01T10:00:00.000000Z", pull_request: int = 7
) -> QuarantinedTest:
    return QuarantinedTest(
        tenant_id=tenant,
        repository=repository,
        test_id=test_id,
        quarantined_at=at,
        incident_id="inc-1",
        workflow="CI",
        pull_request=pull_request,
    )


def test_quarantines_are_listed_per_tenant_replaced_and_released(store: QuarantineStore) -> None:
    tenant, other = f"t-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    store.quarantine(record(tenant, "acme/a", "tests/test_a.py::test_one"))
    store.quarantine(record(tenant, "acme/a", LONG))
    store.quarantine(record(tenant, "acme/b", "tests/test_a.py::test_one"))
    store.quarantine(record(other, "acme/a", "tests/test_a.py::test_one"))
    later = record(tenant, "acme/a", "tests/test_a.py::test_one", at="2026-11-05T10:00:00.000000Z")
    store.quarantine(later)  # quarantined again: the newer record replaces the older

    listed = sorted(store.of_tenant(tenant), key=lambda t: (t.repository, t.test_id))
    assert [(t.repository, t.test_id) for t in listed] == [
        ("acme/a", "tests/test_a.py::test_one"),
        ("acme/a", LONG),
        ("acme/b", "tests/test_a.py::test_one"),
    ]
    assert listed[0] == later

    store.release(tenant, "acme/a", ["tests/test_a.py::test_one", LONG])
    assert [(t.repository, t.test_id) for t in store.of_tenant(tenant)] == [("acme/b", "tests/test_a.py::test_one")]
    assert len(store.of_tenant(other)) == 1


def test_a_quarantine_item_expires_a_year_after_the_quarantine(table: StateTable) -> None:
    quarantined = record("t-ttl", "acme/a", "tests/test_a.py::test_one")
    DynamoQuarantineStore(table).quarantine(quarantined)
    item = table.get(keys.quarantine_key("t-ttl", "acme/a", "tests/test_a.py::test_one"))
    assert item is not None and item["expires_at"] == quarantined.expires_at()
    assert item["expires_at"] == int(datetime(2027, 11, 1, 10, tzinfo=UTC).timestamp())


def test_a_quarantine_is_proposed_until_its_own_pull_request_merges(store: QuarantineStore) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    one, two, three = "tests/test_a.py::test_one", "tests/test_a.py::test_two", "tests/test_a.py::test_three"
    store.quarantine(record(tenant, "acme/a", one, pull_request=7))
    store.quarantine(record(tenant, "acme/a", two, pull_request=7))
    store.quarantine(record(tenant, "acme/a", three, pull_request=9))  # a newer quarantine, another pull request
    assert {t.status for t in store.of_tenant(tenant)} == {QuarantineStatus.PROPOSED}
    assert all(t.in_effect_since is None for t in store.of_tenant(tenant))

    # Pull request 7 merged: only its records (not #9's, not an unknown test) change.
    merged_at = "2026-11-02T09:30:00Z"
    assert store.merge(tenant, "acme/a", [one, two, three, "tests/test_a.py::test_gone"], 7, merged_at) == 2
    by_test = {t.test_id: t for t in store.of_tenant(tenant)}
    assert (by_test[one].status, by_test[one].in_effect_since) == (QuarantineStatus.MERGED, merged_at)
    assert by_test[two].status is QuarantineStatus.MERGED
    assert (by_test[three].status, by_test[three].merged_at) == (QuarantineStatus.PROPOSED, None)


def test_a_quarantine_closed_unmerged_is_forgotten_only_for_its_own_pull_request(store: QuarantineStore) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    one, two = "tests/test_a.py::test_one", "tests/test_a.py::test_two"
    store.quarantine(record(tenant, "acme/a", one, pull_request=7))
    store.quarantine(record(tenant, "acme/a", two, pull_request=7))
    store.quarantine(record(tenant, "acme/a", two, pull_request=12))  # quarantined again by a later pull request

    assert store.forget(tenant, "acme/a", [one, two], 7) == 1  # #7 was closed: #12's record of `two` stays
    [kept] = store.of_tenant(tenant)
    assert (kept.test_id, kept.pull_request) == (two, 12)
    assert store.merge(tenant, "acme/a", [one], 7, "2026-11-02T09:30:00Z") == 0  # a late merge answer adds nothing
    assert [t.test_id for t in store.of_tenant(tenant)] == [two]
