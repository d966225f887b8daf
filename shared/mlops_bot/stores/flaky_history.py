"""The flaky-test history: what CI did on each commit, and per test (or job) and UTC day, the counts.

What is stored (keys in `storage.keys`, every one under the tenant and the repository):
- per commit and workflow, the run attempts that failed (with their failed tests and jobs) and
  those that passed (with the tests they were counted as a success of): `CommitRun`;
- a marker per run attempt (`mark_seen`, a conditional put) so a redelivered event counts once;
  the caller forgets it again when recording failed, so the redelivery records it;
- a marker per commit, workflow and test (`credit`, a conditional put): a test is credited flaky at
  most once per commit;
- per workflow, the tests and jobs seen failing (`TrackedTest`), the ones a success of the
  workflow counts for;
- per test and UTC day, the successes and flaky successes (`FlakyDay`), counted atomically.

Every item carries `expires_at` (DynamoDB TTL), set by the caller's window. A listing that meets a
malformed item logs it and leaves it out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, read_items

# A parametrised test id can be long (the key keeps a bounded prefix and a digest; the item, all of it).
MAX_TEST_ID = 8192
TestId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEST_ID)]
Timestamp = Annotated[str, StringConstraints(max_length=40)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=1024)]  # as bounded as the event's
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
RunId = Annotated[int, Field(ge=0, le=2**63 - 1)]
# Enough for any real run: the detector tracks at most 25 tests of one run (more is a mass failure).
MAX_NAMES = 1000


class FlakyKind(StrEnum):
    TEST = "test"
    JOB = "job"


class CommitWorkflow(BaseModel):
    """One workflow on one commit of one repository: the runs whose outcomes pair up."""

    model_config = ConfigDict(frozen=True)

    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    repository: Annotated[str, StringConstraints(min_length=1, max_length=201)]
    head_sha: Name
    workflow: Name


class RunFailure(StoredItem):
    """A failed run attempt and the tests and jobs it failed."""

    at: Timestamp
    run_id: RunId
    run_attempt: int = Field(ge=1)
    tests: list[TestId] = Field(default_factory=list, max_length=MAX_NAMES)
    jobs: list[TestId] = Field(default_factory=list, max_length=MAX_NAMES)


class RunSuccess(StoredItem):
    """A passed run attempt and the tests and jobs counted as having passed in it."""

    at: Timestamp
    run_id: RunId
    run_attempt: int = Field(ge=1)
    counted: list[TestId] = Field(default_factory=list, max_length=MAX_NAMES)


class CommitRun(StoredItem):
    """What one workflow did on one commit, in the order the attempts were recorded."""

    repository: Annotated[str, StringConstraints(max_length=201)]
    head_sha: Name
    workflow: Name
    failures: list[RunFailure] = Field(default_factory=list)
    successes: list[RunSuccess] = Field(default_factory=list)


class TrackedTest(StoredItem):
    """A test or job seen failing in a workflow, and when it last failed."""

    test_id: TestId
    kind: FlakyKind
    workflow: Name
    last_failed_at: Timestamp


class FlakyDay(StoredItem):
    """One test's (or job's) counts on one UTC day."""

    test_id: TestId
    kind: FlakyKind = FlakyKind.TEST
    day: Annotated[str, StringConstraints(max_length=10)]
    successes: Count = 0
    flaky_successes: Count = 0
    last_flaky_at: Timestamp | None = None


class _Marker(StoredItem):
    """The in-memory stand-in of a marker item (a seen run attempt, a credit)."""

    value: str = ""


class FlakyHistory(Protocol):
    def mark_seen(
        self, commit: CommitWorkflow, run_id: int, run_attempt: int, conclusion: str, expires_at: int
    ) -> bool:
        """Mark the run attempt counted; False when it already was (a redelivered event)."""
        ...

    def forget_seen(self, commit: CommitWorkflow, run_id: int, run_attempt: int) -> None:
        """Undo `mark_seen` (recording failed), so the redelivery counts the attempt."""
        ...

    def commit_run(self, commit: CommitWorkflow) -> CommitRun | None: ...

    def add_failure(self, commit: CommitWorkflow, failure: RunFailure, expires_at: int) -> CommitRun | None:
        """Append the failed attempt (creating the record); the record as it now stands."""
        ...

    def add_success(self, commit: CommitWorkflow, success: RunSuccess, expires_at: int) -> CommitRun | None:
        """Append the passed attempt (creating the record); the record as it now stands."""
        ...

    def credit(self, commit: CommitWorkflow, test_id: str, at: str, expires_at: int) -> bool:
        """Mark `test_id` credited flaky on this commit; False when it already was."""
        ...

    def withdraw_credit(self, commit: CommitWorkflow, test_id: str) -> None:
        """Undo `credit` (counting it failed), so the redelivery credits the test."""
        ...

    def track(self, tenant_id: str, repository: str, tracked: TrackedTest, expires_at: int) -> None:
        """Remember the test as failing in `tracked.workflow` (replacing what was known of it)."""
        ...

    def tracked(self, tenant_id: str, repository: str, workflow: str) -> list[TrackedTest]:
        """The tests and jobs remembered as failing in `workflow`, whenever they last did."""
        ...

    def count_day(
        self,
        tenant_id: str,
        repository: str,
        day: FlakyDay,
        expires_at: int,
    ) -> None:
        """Add `day.successes` and `day.flaky_successes` to the test's counts of `day.day` (atomically);
        `last_flaky_at`, when given, replaces the stored one."""
        ...

    def days(self, tenant_id: str, repository: str) -> list[FlakyDay]:
        """Every readable day bucket of the repository (any day: the caller picks its window)."""
        ...


def _read_run(item: dict[str, Any] | None) -> CommitRun | None:
    if not item:
        return None
    found = read_items(CommitRun, [item], "flaky-history item")
    return found[0] if found else None


class DynamoFlakyHistory:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    @staticmethod
    def _seen_key(commit: CommitWorkflow, run_id: int, run_attempt: int) -> dict[str, str]:
        return keys.commit_run_seen_key(
            commit.tenant_id, commit.repository, commit.head_sha, commit.workflow, run_id, run_attempt
        )

    @staticmethod
    def _run_key(commit: CommitWorkflow) -> dict[str, str]:
        return keys.commit_run_key(commit.tenant_id, commit.repository, commit.head_sha, commit.workflow)

    def mark_seen(
        self, commit: CommitWorkflow, run_id: int, run_attempt: int, conclusion: str, expires_at: int
    ) -> bool:
        marker = {**self._seen_key(commit, run_id, run_attempt), "conclusion": conclusion, "expires_at": expires_at}
        return self._table.put_new(marker)

    def forget_seen(self, commit: CommitWorkflow, run_id: int, run_attempt: int) -> None:
        self._table.delete(self._seen_key(commit, run_id, run_attempt))

    def commit_run(self, commit: CommitWorkflow) -> CommitRun | None:
        return _read_run(self._table.get(self._run_key(commit)))

    def _append(self, commit: CommitWorkflow, field: str, entry: StoredItem, expires_at: int) -> CommitRun | None:
        header = {
            "repository": commit.repository.lower(),
            "head_sha": commit.head_sha,
            "workflow": commit.workflow,
            "expires_at": expires_at,
        }
        entry_fields = entry.model_dump(mode="json")
        return _read_run(self._table.set_fields(self._run_key(commit), header, append={field: [entry_fields]}))

    def add_failure(self, commit: CommitWorkflow, failure: RunFailure, expires_at: int) -> CommitRun | None:
        return self._append(commit, "failures", failure, expires_at)

    def add_success(self, commit: CommitWorkflow, success: RunSuccess, expires_at: int) -> CommitRun | None:
        return self._append(commit, "successes", success, expires_at)

    def credit(self, commit: CommitWorkflow, test_id: str, at: str, expires_at: int) -> bool:
        key = keys.commit_flaky_credit_key(
            commit.tenant_id, commit.repository, commit.head_sha, commit.workflow, test_id
        )
        return self._table.put_new({**key, "at": at, "expires_at": expires_at})

    def withdraw_credit(self, commit: CommitWorkflow, test_id: str) -> None:
        self._table.delete(
            keys.commit_flaky_credit_key(commit.tenant_id, commit.repository, commit.head_sha, commit.workflow, test_id)
        )

    def track(self, tenant_id: str, repository: str, tracked: TrackedTest, expires_at: int) -> None:
        key = keys.flaky_tracked_key(tenant_id, repository, tracked.workflow, tracked.test_id)
        self._table.put({**key, **tracked.model_dump(mode="json"), "expires_at": expires_at})

    def tracked(self, tenant_id: str, repository: str, workflow: str) -> list[TrackedTest]:
        found = self._table.query(keys.flaky_history_pk(tenant_id, repository), keys.flaky_tracked_prefix(workflow))
        listed: list[TrackedTest] = read_items(TrackedTest, found, "flaky-history item")
        return [t for t in listed if t.workflow == workflow]

    def count_day(self, tenant_id: str, repository: str, day: FlakyDay, expires_at: int) -> None:
        fields: dict[str, Any] = {
            "test_id": day.test_id,
            "kind": day.kind.value,
            "day": day.day,
            "expires_at": expires_at,
        }
        increments = {"successes": day.successes}
        if day.last_flaky_at is not None:
            fields["last_flaky_at"] = day.last_flaky_at
        if day.flaky_successes:
            increments["flaky_successes"] = day.flaky_successes
        key = keys.flaky_day_key(tenant_id, repository, day.test_id, day.day)
        self._table.set_fields(key, fields, increments=increments)

    def days(self, tenant_id: str, repository: str) -> list[FlakyDay]:
        found = self._table.query(keys.flaky_history_pk(tenant_id, repository), "TEST#")
        return read_items(FlakyDay, found, "flaky-history item")


Key = tuple[str, str]


def _key(built: dict[str, str]) -> Key:
    return built["pk"], built["sk"]


class InMemoryFlakyHistory:
    """The same promises in dicts (keyed like the table, so the same names collide), for unit tests."""

    def __init__(self) -> None:
        self.markers: MemoryTable[Key, _Marker] = MemoryTable()
        self.runs: MemoryTable[Key, CommitRun] = MemoryTable()
        self.tracked_tests: MemoryTable[Key, TrackedTest] = MemoryTable()
        self.day_counts: MemoryTable[Key, FlakyDay] = MemoryTable()

    @staticmethod
    def _run_key(commit: CommitWorkflow) -> Key:
        return _key(keys.commit_run_key(commit.tenant_id, commit.repository, commit.head_sha, commit.workflow))

    def mark_seen(
        self, commit: CommitWorkflow, run_id: int, run_attempt: int, conclusion: str, expires_at: int
    ) -> bool:
        del expires_at
        key = keys.commit_run_seen_key(
            commit.tenant_id, commit.repository, commit.head_sha, commit.workflow, run_id, run_attempt
        )
        return self.markers.put_new(_key(key), _Marker(value=conclusion))

    def forget_seen(self, commit: CommitWorkflow, run_id: int, run_attempt: int) -> None:
        key = keys.commit_run_seen_key(
            commit.tenant_id, commit.repository, commit.head_sha, commit.workflow, run_id, run_attempt
        )
        self.markers.delete(_key(key))

    def commit_run(self, commit: CommitWorkflow) -> CommitRun | None:
        return self.runs.get(self._run_key(commit))

    def _append(self, commit: CommitWorkflow, change: dict[str, Any]) -> CommitRun | None:
        key = self._run_key(commit)
        header = CommitRun(repository=commit.repository.lower(), head_sha=commit.head_sha, workflow=commit.workflow)
        self.runs.put_new(key, header)

        def append(current: CommitRun) -> CommitRun:
            failures = [*current.failures, *change.get("failures", [])]
            successes = [*current.successes, *change.get("successes", [])]
            return header.model_copy(update={"failures": failures, "successes": successes})

        return self.runs.update(key, append)

    def add_failure(self, commit: CommitWorkflow, failure: RunFailure, expires_at: int) -> CommitRun | None:
        del expires_at
        return self._append(commit, {"failures": [RunFailure.model_validate(failure.model_dump())]})

    def add_success(self, commit: CommitWorkflow, success: RunSuccess, expires_at: int) -> CommitRun | None:
        del expires_at
        return self._append(commit, {"successes": [RunSuccess.model_validate(success.model_dump())]})

    def credit(self, commit: CommitWorkflow, test_id: str, at: str, expires_at: int) -> bool:
        del expires_at
        key = keys.commit_flaky_credit_key(
            commit.tenant_id, commit.repository, commit.head_sha, commit.workflow, test_id
        )
        return self.markers.put_new(_key(key), _Marker(value=at))

    def withdraw_credit(self, commit: CommitWorkflow, test_id: str) -> None:
        key = keys.commit_flaky_credit_key(
            commit.tenant_id, commit.repository, commit.head_sha, commit.workflow, test_id
        )
        self.markers.delete(_key(key))

    def track(self, tenant_id: str, repository: str, tracked: TrackedTest, expires_at: int) -> None:
        del expires_at
        key = keys.flaky_tracked_key(tenant_id, repository, tracked.workflow, tracked.test_id)
        self.tracked_tests.put(_key(key), TrackedTest.model_validate(tracked.model_dump()))

    def tracked(self, tenant_id: str, repository: str, workflow: str) -> list[TrackedTest]:
        pk, prefix = keys.flaky_history_pk(tenant_id, repository), keys.flaky_tracked_prefix(workflow)
        found = self.tracked_tests.values(where=lambda k: k[0] == pk and k[1].startswith(prefix))
        return [t for t in found if t.workflow == workflow]

    def count_day(self, tenant_id: str, repository: str, day: FlakyDay, expires_at: int) -> None:
        del expires_at
        key = _key(keys.flaky_day_key(tenant_id, repository, day.test_id, day.day))
        self.day_counts.put_new(key, FlakyDay(test_id=day.test_id, kind=day.kind, day=day.day))

        def add(current: FlakyDay) -> FlakyDay:
            return current.model_copy(
                update={
                    "test_id": day.test_id,
                    "kind": day.kind,
                    "successes": current.successes + day.successes,
                    "flaky_successes": current.flaky_successes + day.flaky_successes,
                    "last_flaky_at": day.last_flaky_at if day.last_flaky_at is not None else current.last_flaky_at,
                }
            )

        self.day_counts.update(key, add)

    def days(self, tenant_id: str, repository: str) -> list[FlakyDay]:
        pk = keys.flaky_history_pk(tenant_id, repository)
        return self.day_counts.values(where=lambda k: k[0] == pk)
