"""GitHub App installations: what GitHub told us about each one, and which tenant claimed it.

One item per installation under the `_system` tenant (`keys.installation_key`), next to the routing
record (`.../ROUTE`) that the webhook path already reads. The item exists from the first
`installation` event, unclaimed (`tenant_id` None) until a tenant proves it administers the
installation; a claim is one conditional write, so two tenants racing for the
same installation cannot both win. Claim-state ids (`jti`) are recorded once so a setup link works
a single time (`keys.installation_claim_state_key`, expiring with the state).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, stored_fields

MAX_REPOSITORIES = 5000


class InstallationStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"


class ClaimMethod(StrEnum):
    SETUP_STATE = "setup_state"
    USER_TOKEN = "user_token"  # noqa: S105 - a method's name, not a token


class InstallationItem(StoredItem):
    """One GitHub App installation as the bot knows it."""

    installation_id: int = Field(ge=1)
    account_login: str = Field(default="", max_length=100)
    account_type: str = Field(default="", max_length=40)
    status: InstallationStatus = InstallationStatus.ACTIVE
    status_reason: str | None = Field(default=None, max_length=500)
    tenant_id: str | None = Field(default=None, min_length=1, max_length=100)  # None: unclaimed
    claimed_at: str | None = None
    claimed_by: ClaimMethod | None = None
    repositories: list[str] = Field(default_factory=list, max_length=MAX_REPOSITORIES)
    # Repositories of the installation the tenant removed from monitoring (stay removed until added).
    excluded_repositories: list[str] = Field(default_factory=list, max_length=MAX_REPOSITORIES)
    sender: str | None = Field(default=None, max_length=100)
    # Events answered "ignored" (unclaimed, suspended, deleted, excluded repository) and the last one.
    ignored_events: int = Field(default=0, ge=0)
    last_ignored_at: str | None = None
    last_ignored_reason: str | None = Field(default=None, max_length=500)
    created_at: str
    updated_at: str

    @property
    def claimed(self) -> bool:
        return self.tenant_id is not None

    def holds(self, full_name: str) -> bool:
        return full_name.lower() in {r.lower() for r in self.repositories}

    def excludes(self, full_name: str) -> bool:
        return full_name.lower() in {r.lower() for r in self.excluded_repositories}


installation_key = keys.installation_key  # re-exported: tests arrange items with it


# What `save` never writes: the claim (only `claim`/`release` move it) and the ignored-event counter.
GITHUB_EXCLUDED: set[str] = {
    "tenant_id",
    "claimed_at",
    "claimed_by",
    "ignored_events",
    "last_ignored_at",
    "last_ignored_reason",
}


class InstallationStore(Protocol):
    def get(self, installation_id: int) -> InstallationItem | None: ...
    def save(self, item: InstallationItem) -> None:
        """Write what GitHub said (status, account, repositories, exclusions), never the claim."""
        ...

    def claim(self, installation_id: int, tenant_id: str, method: ClaimMethod, at: str) -> InstallationItem | None:
        """Bind to `tenant_id` unless another tenant holds it (None then); idempotent for the holder."""
        ...

    def release(self, installation_id: int, tenant_id: str) -> None: ...
    def note_ignored(self, installation_id: int, at: str, reason: str) -> None:
        """Count one event that was not processed (one update on the webhook path)."""
        ...

    def for_tenant(self, tenant_id: str) -> list[InstallationItem]: ...
    def use_claim_state(self, state_id: str, expires_at: int) -> bool:
        """Record a setup state as used; False when it was used before."""
        ...


class DynamoInstallationStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def _item(self, item: InstallationItem) -> dict[str, object]:
        fields = item.model_dump(mode="json")
        record: dict[str, object] = {**installation_key(item.installation_id), "entity": "installation", **fields}
        if item.tenant_id:
            record["gsi1pk"] = keys.installations_index(item.tenant_id)
            record["gsi1sk"] = str(item.installation_id)
        return record

    def get(self, installation_id: int) -> InstallationItem | None:
        found = self.table.get(installation_key(installation_id), consistent=False)
        return InstallationItem.model_validate(stored_fields(found)) if found else None

    def save(self, item: InstallationItem) -> None:
        fields = item.model_dump(mode="json", exclude=GITHUB_EXCLUDED)
        fields["entity"] = "installation"
        updated = self.table.set_fields(installation_key(item.installation_id), fields, if_exists=True)
        if updated is None and not self.table.put_new(self._item(item)):
            self.table.set_fields(installation_key(item.installation_id), fields)

    def claim(self, installation_id: int, tenant_id: str, method: ClaimMethod, at: str) -> InstallationItem | None:
        updated = self.table.set_fields(
            installation_key(installation_id),
            {
                "tenant_id": tenant_id,
                "claimed_at": at,
                "claimed_by": method.value,
                "gsi1pk": keys.installations_index(tenant_id),
                "gsi1sk": str(installation_id),
            },
            if_exists=True,
            condition="attribute_not_exists(tenant_id) OR tenant_id = :tenant",
            condition_values={":tenant": tenant_id},
        )
        return InstallationItem.model_validate(stored_fields(updated)) if updated else None

    def release(self, installation_id: int, tenant_id: str) -> None:
        self.table.table.update_item(
            Key=installation_key(installation_id),
            UpdateExpression="REMOVE tenant_id, claimed_at, claimed_by, gsi1pk, gsi1sk",
            ConditionExpression="tenant_id = :tenant",
            ExpressionAttributeValues={":tenant": tenant_id},
        )

    def note_ignored(self, installation_id: int, at: str, reason: str) -> None:
        self.table.set_fields(
            installation_key(installation_id),
            {"last_ignored_at": at, "last_ignored_reason": reason[:500]},
            increments={"ignored_events": 1},
            if_exists=True,
        )

    def for_tenant(self, tenant_id: str) -> list[InstallationItem]:
        found = self.table.query(keys.installations_index(tenant_id), by_index=True)
        return [InstallationItem.model_validate(stored_fields(i)) for i in found]

    def use_claim_state(self, state_id: str, expires_at: int) -> bool:
        return self.table.put_new({**keys.installation_claim_state_key(state_id), "expires_at": expires_at})


class InMemoryInstallationStore:
    def __init__(self) -> None:
        self.items: MemoryTable[int, InstallationItem] = MemoryTable()
        self.used_states: set[str] = set()

    def get(self, installation_id: int) -> InstallationItem | None:
        return self.items.get(installation_id)

    def save(self, item: InstallationItem) -> None:
        if self.items.put_new(item.installation_id, item):
            return
        self.items.update(
            item.installation_id,
            lambda current: current.model_copy(update=item.model_dump(exclude=GITHUB_EXCLUDED)),
        )

    def claim(self, installation_id: int, tenant_id: str, method: ClaimMethod, at: str) -> InstallationItem | None:
        def bind(current: InstallationItem) -> InstallationItem | None:
            if current.tenant_id not in (None, tenant_id):
                return None
            return current.model_copy(update={"tenant_id": tenant_id, "claimed_at": at, "claimed_by": method})

        return self.items.update(installation_id, bind)

    def release(self, installation_id: int, tenant_id: str) -> None:
        self.items.update(
            installation_id,
            lambda c: (
                c.model_copy(update={"tenant_id": None, "claimed_at": None, "claimed_by": None})
                if c.tenant_id == tenant_id
                else None
            ),
        )

    def note_ignored(self, installation_id: int, at: str, reason: str) -> None:
        self.items.update(
            installation_id,
            lambda c: c.model_copy(
                update={"ignored_events": c.ignored_events + 1, "last_ignored_at": at, "last_ignored_reason": reason}
            ),
        )

    def for_tenant(self, tenant_id: str) -> list[InstallationItem]:
        return sorted(
            (i for i in self.items.values() if i.tenant_id == tenant_id), key=lambda i: str(i.installation_id)
        )

    def use_claim_state(self, state_id: str, expires_at: int) -> bool:
        del expires_at
        if state_id in self.used_states:
            return False
        self.used_states.add(state_id)
        return True
