"""GitHub App installations: what GitHub told us about each one, and which tenant claimed it.

One item per installation under the `_system` tenant (`keys.installation_key`), next to the routing
record (`.../ROUTE`) that the webhook path already reads. The item exists from the first
`installation` event, unclaimed (`tenant_id` None) until a tenant proves it administers the
installation; a claim is one conditional write, so two tenants racing for the
same installation cannot both win. Claim-state ids (`jti`) are recorded once so a setup link works
a single time (`keys.installation_claim_state_key`, expiring with the state).

GitHub's deliveries can arrive out of order (a retry, a redelivery, two deliveries handled at once),
so the status carries `status_order`, the ordering key of the event that set it (GitHub's own
timestamps, see `tenancy.installations.status_order`): `save` writes the status only when its
order is not older than the stored one, in the same conditional write, and otherwise keeps the
stored status while still recording the rest of what GitHub said.
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
    # The ordering key of the event that set `status` (`<GitHub's time, UTC ISO>#<rank>`); None: unknown.
    status_order: str | None = Field(default=None, max_length=64)
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
# What `save` writes only when the item's `status_order` is not older than the stored one.
STATUS_FIELDS: set[str] = {"status", "status_reason", "status_order", "created_at"}


def status_is_current(order: str | None, stored: str | None) -> bool:
    """Whether a status of `order` may replace one of `stored` (no order on either side: yes, as it comes)."""
    return order is None or stored is None or order >= stored


class InstallationStore(Protocol):
    def get(self, installation_id: int) -> InstallationItem | None: ...
    def save(self, item: InstallationItem) -> bool:
        """Write what GitHub said (status, account, repositories, exclusions), never the claim.

        The status fields (`STATUS_FIELDS`) only when `status_is_current` against the stored
        item, atomically; False when a newer status was kept (the rest is written either way).
        An item without `status_order` keeps the stored order.
        """
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

    def save(self, item: InstallationItem) -> bool:
        key = installation_key(item.installation_id)
        fields = item.model_dump(mode="json", exclude=GITHUB_EXCLUDED)
        fields["entity"] = "installation"
        condition: str | None = None
        values: dict[str, str] | None = None
        if item.status_order is None:
            del fields["status_order"]  # no ordering evidence: applied as it comes, the stored order kept
        else:
            condition = "attribute_not_exists(status_order) OR status_order <= :order"
            values = {":order": item.status_order}
        for _ in range(2):  # the second round: the item appeared between the update and the put
            if (
                self.table.set_fields(key, fields, if_exists=True, condition=condition, condition_values=values)
                is not None
            ):
                return True
            if self.table.put_new(self._item(item)):
                return True
        # A newer status is stored: keep it, record the rest of what GitHub said.
        self.table.set_fields(key, {k: v for k, v in fields.items() if k not in STATUS_FIELDS}, if_exists=True)
        return False

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

    def save(self, item: InstallationItem) -> bool:
        if self.items.put_new(item.installation_id, item):
            return True
        current_status = True

        def write(current: InstallationItem) -> InstallationItem:
            nonlocal current_status
            current_status = status_is_current(item.status_order, current.status_order)
            kept = set(GITHUB_EXCLUDED) | (set() if current_status else STATUS_FIELDS)
            if item.status_order is None:
                kept.add("status_order")
            return current.model_copy(update=item.model_dump(exclude=kept))

        self.items.update(item.installation_id, write)
        return current_status

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
