"""The flaky-test history keeps the same promises on DynamoDB (moto) and in memory.

Flaky detection's unit tests (tests/unit/test_flaky_detection.py) run on the in-memory history; this
module is what makes that trustworthy. One moto table per module, a fresh tenant per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.flaky_history import (
    CommitWorkflow,
    DynamoFlakyHistory,
    FlakyDay,
    FlakyHistory,
    FlakyKind,
    InMemoryFlakyHistory,
    RunFailure,
    RunSuccess,
    TrackedTest,
)
from tests.support.aws import create_state

REPO = "Acme/Churn-Model"
SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"
TEST = "tests/test_training.py::test_early_stopping[lightgbm]"
EXPIRES = 1_900_000_000


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@dataclass
class History:
    tenant: str
    store: FlakyHistory

    def commit(self, workflow: str = "CI", sha: str = SHA, repository: str = REPO) -> CommitWorkflow:
        return CommitWorkflow(tenant_id=self.tenant, repository=repository, head_sha=sha, workflow=workflow)


@pytest.fixture(params=["dynamodb", "memory"])
def history(request: pytest.FixtureRequest, table: StateTable) -> History:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    return History(tenant, DynamoFlakyHistory(table) if request.param == "dynamodb" else InMemoryFlakyHistory())


def test_a_run_attempt_is_seen_once_until_forgotten(history: History) -> None:
    commit = history.commit()
    assert history.store.mark_seen(commit, 7001, 1, "failure", EXPIRES)
    assert not history.store.mark_seen(commit, 7001, 1, "failure", EXPIRES)
    assert history.store.mark_seen(commit, 7001, 2, "success", EXPIRES)  # another attempt
    # The same commit with the sha and repository spelled differently is the same commit.
    assert not history.store.mark_seen(history.commit(sha=SHA.upper(), repository=REPO.lower()), 7001, 1, "x", 1)
    history.store.forget_seen(commit, 7001, 1)
    assert history.store.mark_seen(commit, 7001, 1, "failure", EXPIRES)


def test_outcomes_of_a_commit_are_appended_in_order(history: History) -> None:
    commit = history.commit()
    assert history.store.commit_run(commit) is None
    failure = RunFailure(at="2026-11-23T09:00:00.000000Z", run_id=1, run_attempt=1, tests=[TEST], jobs=["pytest"])
    after_failure = history.store.add_failure(commit, failure, EXPIRES)
    assert after_failure is not None and after_failure.failures == [failure] and after_failure.successes == []
    success = RunSuccess(at="2026-11-23T09:20:00.000000Z", run_id=1, run_attempt=2, counted=[TEST])
    after_success = history.store.add_success(commit, success, EXPIRES)
    second = failure.model_copy(update={"run_attempt": 3, "at": "2026-11-23T09:40:00.000000Z"})
    history.store.add_failure(commit, second, EXPIRES)
    assert after_success is not None and after_success.successes == [success]
    stored = history.store.commit_run(commit)
    assert stored is not None
    assert (stored.failures, stored.successes) == ([failure, second], [success])
    assert (stored.repository, stored.head_sha, stored.workflow) == (REPO.lower(), SHA, "CI")
    assert history.store.commit_run(history.commit(workflow="Docs")) is None
    assert history.store.commit_run(history.commit(sha="0" * 40)) is None


def test_a_test_is_credited_once_per_commit_until_withdrawn(history: History) -> None:
    commit = history.commit()
    assert history.store.credit(commit, TEST, "2026-11-23T09:20:00.000000Z", EXPIRES)
    assert not history.store.credit(commit, TEST, "2026-11-23T10:20:00.000000Z", EXPIRES)
    assert history.store.credit(history.commit(sha="1" * 40), TEST, "2026-11-23T09:20:00.000000Z", EXPIRES)
    assert history.store.credit(commit, "pytest", "2026-11-23T09:20:00.000000Z", EXPIRES)
    history.store.withdraw_credit(commit, TEST)
    assert history.store.credit(commit, TEST, "2026-11-23T09:20:00.000000Z", EXPIRES)


def test_tracked_tests_are_listed_per_workflow_and_replaced_by_the_last_failure(history: History) -> None:
    tracked = TrackedTest(test_id=TEST, kind=FlakyKind.TEST, workflow="CI", last_failed_at="2026-11-23T09:00:00Z")
    history.store.track(history.tenant, REPO, tracked, EXPIRES)
    later = tracked.model_copy(update={"last_failed_at": "2026-11-24T09:00:00Z"})
    history.store.track(history.tenant, REPO, later, EXPIRES)
    job = TrackedTest(test_id="pytest", kind=FlakyKind.JOB, workflow="CI", last_failed_at="2026-11-23T09:00:00Z")
    history.store.track(history.tenant, REPO, job, EXPIRES)
    # A workflow whose name starts with the other's and its separator is not the same workflow.
    other = tracked.model_copy(update={"workflow": "CI#nightly"})
    history.store.track(history.tenant, REPO, other, EXPIRES)
    listed = history.store.tracked(history.tenant, REPO.lower(), "CI")
    assert sorted(listed, key=lambda t: t.test_id) == [job, later]
    assert history.store.tracked(history.tenant, REPO, "CI#nightly") == [other]
    assert history.store.tracked(history.tenant, "acme/other", "CI") == []
    assert history.store.tracked("another-tenant", REPO, "CI") == []


def test_day_counts_add_up_and_keep_the_last_flaky_time(history: History) -> None:
    day = FlakyDay(test_id=TEST, kind=FlakyKind.TEST, day="2026-11-23", successes=1)
    history.store.count_day(history.tenant, REPO, day, EXPIRES)
    flaky = day.model_copy(update={"flaky_successes": 1, "last_flaky_at": "2026-11-23T09:20:00.000000Z"})
    history.store.count_day(history.tenant, REPO, flaky, EXPIRES)
    history.store.count_day(history.tenant, REPO, day, EXPIRES)  # no flaky time: the stored one stays
    history.store.count_day(history.tenant, REPO, day.model_copy(update={"day": "2026-11-24"}), EXPIRES)
    listed = sorted(history.store.days(history.tenant, REPO.lower()), key=lambda d: d.day)
    assert [(d.day, d.successes, d.flaky_successes, d.last_flaky_at) for d in listed] == [
        ("2026-11-23", 3, 1, "2026-11-23T09:20:00.000000Z"),
        ("2026-11-24", 1, 0, None),
    ]
    assert history.store.days(history.tenant, "acme/other") == []


def test_a_long_parametrised_test_id_is_kept_whole(history: History) -> None:
    long_id = "tests/test_grid.py::test_search[" + "-".join(f"param{i}" for i in range(300)) + "]"
    history.store.count_day(history.tenant, REPO, FlakyDay(test_id=long_id, day="2026-11-23", successes=1), EXPIRES)
    assert [d.test_id for d in history.store.days(history.tenant, REPO)] == [long_id]


def test_dynamodb_items_carry_the_ttl_and_keep_their_layout(table: StateTable) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    store = DynamoFlakyHistory(table)
    commit = CommitWorkflow(tenant_id=tenant, repository=REPO, head_sha=SHA, workflow="CI")
    failure = RunFailure(at="2026-11-23T09:00:00.000000Z", run_id=1, run_attempt=1, tests=[TEST])
    store.add_failure(commit, failure, EXPIRES)
    day = FlakyDay(test_id=TEST, day="2026-11-23", successes=1, flaky_successes=1, last_flaky_at="2026-11-23T09:20Z")
    store.count_day(tenant, REPO, day, EXPIRES + 1)
    run = table.get(keys.commit_run_key(tenant, REPO, SHA, "CI"))
    assert run is not None and run["expires_at"] == EXPIRES
    assert run["failures"] == [{**failure.model_dump(mode="json")}]
    bucket = table.get(keys.flaky_day_key(tenant, REPO, TEST, "2026-11-23"))
    assert bucket is not None and bucket["expires_at"] == EXPIRES + 1
    assert (bucket["successes"], bucket["flaky_successes"], bucket["kind"]) == (1, 1, "test")


def test_dynamodb_listing_skips_a_malformed_item(table: StateTable) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    store = DynamoFlakyHistory(table)
    store.count_day(tenant, REPO, FlakyDay(test_id=TEST, day="2026-11-23", successes=1), EXPIRES)
    broken = {**keys.flaky_day_key(tenant, REPO, "other", "2026-11-23"), "test_id": "other", "successes": -5}
    table.put(broken)
    assert [d.test_id for d in store.days(tenant, REPO)] == [TEST]
