"""Tests the bot quarantined (`@pytest.mark.flaky(reruns=N)` by pull request), until it releases them.

One item per repository and test (keys in `storage.keys`: `TENANT#t#QUARANTINES` /
`REPO#owner/name#TEST#<id>`), written `proposed` when the quarantine pull request is opened and
removed when the release pull request is. Only a *merged* quarantine pull request puts the marker
on the default branch, so the record follows its pull request: `merge` turns it `merged` (with
GitHub's `merged_at`), `forget` drops it when the pull request was closed unmerged. Both are
conditional on the record still belonging to that pull request, so a late answer about an old pull
request never touches a newer quarantine of the same test. The scheduler's sweep reads a tenant's
quarantines in one query and asks the flaky history whether each merged test has been stable for
the flake window since its merge.

Items expire (`expires_at`, DynamoDB TTL) a year after the quarantine, so a repository the bot
stopped watching does not keep them forever.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Protocol

from pydantic import Field, StringConstraints

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, read_items
from mlops_bot.stores.flaky_history import TestId

QUARANTINE_TTL = timedelta(days=365)
Timestamp = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class QuarantineStatus(StrEnum):
    PROPOSED = "proposed"  # the quarantine pull request is open: the default branch has no marker yet
    MERGED = "merged"  # the pull request was merged: the test is quarantined


class QuarantinedTest(StoredItem):
    """A test the bot marked flaky, and the quarantine it came from.

    A record written before quarantines followed their pull request has no status: it reads
    `proposed`, and the sweep asks GitHub about its pull request like any other.
    """

    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    repository: Annotated[str, StringConstraints(min_length=1, max_length=201)]
    test_id: TestId
    quarantined_at: Timestamp  # when the quarantine pull request was opened
    incident_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    workflow: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    installation_id: int | None = Field(default=None, ge=0)
    pull_request: int | None = Field(default=None, ge=0)
    status: QuarantineStatus = QuarantineStatus.PROPOSED
    merged_at: Timestamp | None = None  # GitHub's `merged_at` of the quarantine pull request

    @property
    def in_effect_since(self) -> str | None:
        """When the marker reached the default branch (None while the pull request is not merged)."""
        return self.merged_at if self.status is QuarantineStatus.MERGED else None

    def expires_at(self) -> int:
        return epoch_seconds(datetime.fromisoformat(self.quarantined_at) + QUARANTINE_TTL)


class QuarantineStore(Protocol):
    def quarantine(self, test: QuarantinedTest) -> None:
        """Remember the test as quarantined (a later quarantine of the same test replaces the record)."""
        ...

    def of_tenant(self, tenant_id: str) -> list[QuarantinedTest]:
        """Every quarantined test of the tenant's repositories."""
        ...

    def release(self, tenant_id: str, repository: str, test_ids: list[str]) -> None:
        """Forget the tests' quarantine (their release pull request is open)."""
        ...

    def merge(self, tenant_id: str, repository: str, test_ids: list[str], pull_request: int, merged_at: str) -> int:
        """Mark the tests quarantined by `pull_request` as merged; how many records it changed."""
        ...

    def forget(self, tenant_id: str, repository: str, test_ids: list[str], pull_request: int) -> int:
        """Drop the tests' records that still come from `pull_request` (closed unmerged); how many."""
        ...


class DynamoQuarantineStore:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    def quarantine(self, test: QuarantinedTest) -> None:
        key = keys.quarantine_key(test.tenant_id, test.repository, test.test_id)
        self._table.put({**key, **test.model_dump(mode="json", exclude_none=True), "expires_at": test.expires_at()})

    def of_tenant(self, tenant_id: str) -> list[QuarantinedTest]:
        found = read_items(QuarantinedTest, self._table.query(keys.quarantines_pk(tenant_id), "REPO#"), "quarantine")
        return [t for t in found if t.tenant_id == tenant_id]

    def release(self, tenant_id: str, repository: str, test_ids: list[str]) -> None:
        for test_id in dict.fromkeys(test_ids):
            self._table.delete(keys.quarantine_key(tenant_id, repository, test_id))

    def merge(self, tenant_id: str, repository: str, test_ids: list[str], pull_request: int, merged_at: str) -> int:
        changed = 0
        for test_id in dict.fromkeys(test_ids):
            updated = self._table.set_fields(
                keys.quarantine_key(tenant_id, repository, test_id),
                {"status": QuarantineStatus.MERGED.value, "merged_at": merged_at},
                if_exists=True,
                condition="pull_request = :pull_request",
                condition_values={":pull_request": pull_request},
            )
            changed += updated is not None
        return changed

    def forget(self, tenant_id: str, repository: str, test_ids: list[str], pull_request: int) -> int:
        return sum(
            self._table.delete_if(
                keys.quarantine_key(tenant_id, repository, test_id),
                "pull_request = :pull_request",
                {":pull_request": pull_request},
            )
            for test_id in dict.fromkeys(test_ids)
        )


class InMemoryQuarantineStore:
    """The same promises in a dict keyed like the table, for unit tests."""

    def __init__(self) -> None:
        self.tests: MemoryTable[tuple[str, str], QuarantinedTest] = MemoryTable()

    @staticmethod
    def _key(tenant_id: str, repository: str, test_id: str) -> tuple[str, str]:
        built = keys.quarantine_key(tenant_id, repository, test_id)
        return built["pk"], built["sk"]

    def quarantine(self, test: QuarantinedTest) -> None:
        self.tests.put(self._key(test.tenant_id, test.repository, test.test_id), test)

    def of_tenant(self, tenant_id: str) -> list[QuarantinedTest]:
        pk = keys.quarantines_pk(tenant_id)
        return self.tests.values(where=lambda k: k[0] == pk)

    def release(self, tenant_id: str, repository: str, test_ids: list[str]) -> None:
        for test_id in test_ids:
            self.tests.delete(self._key(tenant_id, repository, test_id))

    def merge(self, tenant_id: str, repository: str, test_ids: list[str], pull_request: int, merged_at: str) -> int:
        def merged(current: QuarantinedTest) -> QuarantinedTest | None:
            if current.pull_request != pull_request:
                return None
            return current.model_copy(update={"status": QuarantineStatus.MERGED, "merged_at": merged_at})

        changed = [self.tests.update(self._key(tenant_id, repository, t), merged) for t in dict.fromkeys(test_ids)]
        return sum(1 for c in changed if c is not None)

    def forget(self, tenant_id: str, repository: str, test_ids: list[str], pull_request: int) -> int:
        return sum(
            self.tests.delete_if(self._key(tenant_id, repository, t), lambda c: c.pull_request == pull_request)
            for t in dict.fromkeys(test_ids)
        )
