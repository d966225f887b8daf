"""The repair claims keep one promise on DynamoDB (moto) and in memory: the first incident to plan a
repair holds it, whoever races it; a claim nobody used can be taken over; followers are kept."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.stores.repair_claims import (
    REPAIR_CLAIM_TTL,
    DynamoRepairClaimStore,
    InMemoryRepairClaimStore,
    RepairClaim,
    RepairClaimStore,
)
from tests.support.aws import create_state

REPO, KEY = "acme/model", "open_fix_pr:python:numpy"


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, table: StateTable) -> RepairClaimStore:
    return DynamoRepairClaimStore(table) if request.param == "dynamodb" else InMemoryRepairClaimStore()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def claim(tenant: str, incident_id: str, *, key: str = KEY, age: timedelta = timedelta(0)) -> RepairClaim:
    at = iso(utc_now() - age)
    return RepairClaim(
        tenant_id=tenant,
        repository=REPO,
        repair_key=key,
        action="open_fix_pr",
        incident_id=incident_id,
        claimed_at=at,
        renewed_at=at,
    )


def test_the_first_incident_holds_the_claim_and_a_second_reads_it(store: RepairClaimStore, tenant: str) -> None:
    assert store.claim(claim(tenant, "inc-1")).incident_id == "inc-1"
    assert store.claim(claim(tenant, "inc-2")).incident_id == "inc-1"
    assert store.claim(claim(tenant, "inc-3", key="open_fix_pr:python:pandas")).incident_id == "inc-3"
    # per tenant and repository
    assert store.claim(claim(f"{tenant}-other", "inc-4")).incident_id == "inc-4"
    found = store.get(tenant, REPO, KEY)
    assert found is not None and found.incident_id == "inc-1"
    assert store.get(tenant, "acme/other", KEY) is None


def test_two_healers_claiming_at_once_leave_exactly_one_holder(store: RepairClaimStore, tenant: str) -> None:
    racers = 8
    start = threading.Barrier(racers)
    holders: list[str] = []

    def race(incident_id: str) -> None:
        start.wait(timeout=30)
        holders.append(store.claim(claim(tenant, incident_id)).incident_id)

    threads = [threading.Thread(target=race, args=(f"inc-{i}",)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(holders) == racers and len(set(holders)) == 1


def test_the_holder_alone_records_its_pull_request(store: RepairClaimStore, tenant: str) -> None:
    store.claim(claim(tenant, "inc-1"))
    pull = {"number": 7, "url": "https://github.example/acme/model/pull/7", "branch": "mlops-bot/inc-1"}
    assert not store.record_pull_request(tenant, REPO, KEY, "inc-2", **pull)  # type: ignore[arg-type]
    assert store.record_pull_request(tenant, REPO, KEY, "inc-1", **pull)  # type: ignore[arg-type]
    found = store.get(tenant, REPO, KEY)
    assert found is not None and (found.pull_request, found.branch) == (7, "mlops-bot/inc-1")


def test_followers_are_linked_once_and_renew_the_claim(store: RepairClaimStore, tenant: str) -> None:
    store.claim(claim(tenant, "inc-1", age=timedelta(days=20)))
    assert store.link(tenant, REPO, "open_fix_pr:python:absent", "inc-2") is None
    store.link(tenant, REPO, KEY, "inc-2")
    store.link(tenant, REPO, KEY, "inc-2")  # a retried step
    linked = store.link(tenant, REPO, KEY, "inc-3")
    assert linked is not None and linked.linked_incidents == ["inc-2", "inc-3"]
    assert linked.renewed_at > linked.claimed_at  # renewed: it now expires 30 days after the last link
    [held] = store.held_by(tenant, REPO, "inc-1")
    assert held.linked_incidents == ["inc-2", "inc-3"]


def test_an_expired_claim_is_absent_and_can_be_claimed_again(store: RepairClaimStore, tenant: str) -> None:
    store.claim(claim(tenant, "inc-1", age=REPAIR_CLAIM_TTL + timedelta(minutes=1)))
    assert store.get(tenant, REPO, KEY) is None
    assert store.claim(claim(tenant, "inc-2")).incident_id == "inc-2"


def test_a_claim_without_a_pull_request_is_taken_over_once(store: RepairClaimStore, tenant: str) -> None:
    stale = store.claim(claim(tenant, "inc-1", age=timedelta(hours=3)))
    assert store.take_over(claim(tenant, "inc-2"), stale=stale)
    assert not store.take_over(claim(tenant, "inc-3"), stale=stale)  # the second taker lost
    found = store.get(tenant, REPO, KEY)
    assert found is not None and found.incident_id == "inc-2"
    store.record_pull_request(tenant, REPO, KEY, "inc-2", number=3, url="u", branch="mlops-bot/inc-2")
    assert not store.take_over(claim(tenant, "inc-4"), stale=found)  # never once it has a pull request


def test_one_incident_escalates_and_records_the_issue(store: RepairClaimStore, tenant: str) -> None:
    store.claim(claim(tenant, "inc-1"))
    stale_before = iso(utc_now() - timedelta(hours=2))
    first = store.begin_escalation(tenant, REPO, KEY, "inc-2", stale_before=stale_before)
    second = store.begin_escalation(tenant, REPO, KEY, "inc-3", stale_before=stale_before)
    assert first is not None and first.escalated_by == "inc-2"
    assert second is not None and second.escalated_by == "inc-2"
    assert not store.record_issue(tenant, REPO, KEY, "inc-3", number=9, url="u")
    assert store.record_issue(tenant, REPO, KEY, "inc-2", number=9, url="u")
    found = store.get(tenant, REPO, KEY)
    assert found is not None and found.issue == 9


def test_a_claim_is_released_only_by_its_holder_and_only_without_a_pull_request(
    store: RepairClaimStore, tenant: str
) -> None:
    store.claim(claim(tenant, "inc-1"))
    store.link(tenant, REPO, KEY, "inc-2")
    assert store.release(tenant, REPO, KEY, "inc-9") is None
    released = store.release(tenant, REPO, KEY, "inc-1")
    assert released is not None and released.linked_incidents == ["inc-2"]
    assert store.get(tenant, REPO, KEY) is None
    store.claim(claim(tenant, "inc-3"))
    store.record_pull_request(tenant, REPO, KEY, "inc-3", number=4, url="u", branch="mlops-bot/inc-3")
    assert store.release(tenant, REPO, KEY, "inc-3") is None
    assert store.get(tenant, REPO, KEY) is not None


def test_an_escalation_that_never_got_its_issue_is_taken_over(store: RepairClaimStore, tenant: str) -> None:
    store.claim(claim(tenant, "inc-1"))
    store.begin_escalation(tenant, REPO, KEY, "inc-2", stale_before=iso(utc_now() - timedelta(hours=2)))
    later = iso(utc_now() + timedelta(seconds=1))  # as seen 2 hours later: inc-2's escalation is stale
    taken = store.begin_escalation(tenant, REPO, KEY, "inc-3", stale_before=later)
    assert taken is not None and taken.escalated_by == "inc-3"
    assert store.record_issue(tenant, REPO, KEY, "inc-3", number=9, url="u")
    kept = store.begin_escalation(tenant, REPO, KEY, "inc-4", stale_before=iso(utc_now() + timedelta(seconds=1)))
    assert kept is not None and kept.escalated_by == "inc-3"  # never once its issue is open
