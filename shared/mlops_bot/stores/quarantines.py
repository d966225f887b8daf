"""Tests the bot quarantined (`@pytest.mark.flaky(reruns=N)` by pull request), until it releases them.

One item per repository and test (keys in `storage.keys`: `TENANT#t#QUARANTINES` /
`REPO#owner/name#TEST#<id>`), written when the quarantine pull request is opened and removed when
the release pull request is. The scheduler's sweep reads a tenant's quarantines in one query and
asks the flaky history whether each test has been stable for the flake window since.

Items expire (`expires_at`, DynamoDB TTL) a year after the quarantine, so a repository the bot
stopped watching does not keep them forever.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Protocol

from pydantic import Field, StringConstraints

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, read_items
from mlops_bot.stores.flaky_history import TestId

QUARANTINE_TTL = timedelta(days=365)
Timestamp = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class QuarantinedTest(StoredItem):
    """A test the bot marked flaky, and the quarantine it came from."""

    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    repository: Annotated[str, StringConstraints(min_length=1, max_length=201)]
    test_id: TestId
    quarantined_at: Timestamp  # when the quarantine pull request was opened
    incident_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    workflow: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    installation_id: int | None = Field(default=None, ge=0)
    pull_request: int | None = Field(default=None, ge=0)

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
