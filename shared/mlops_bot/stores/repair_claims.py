"""Claims on repairs: one pull request per problem, whichever run or healer meets it first.

A repair that changes files is known by its repair key (`healing.repair_claims.repair_key`: the
action and what it changes — the package, the pin, the workflow job, the tests). The first incident
to plan it claims the key with a conditional write (keys in `storage.keys`:
`TENANT#t#REPAIRS#owner/name` / `REPAIR#<key>`), and records its branch and pull request once
opened; a later incident with the same key links itself to the claim instead of opening a second
branch. Two healers racing for one key: exactly one write succeeds, the other reads the winner.

A claim is renewed by every incident that links to it and expires (`expires_at`, DynamoDB TTL)
`REPAIR_CLAIM_TTL` after its last renewal; an expired claim that TTL has not removed yet is read as
absent and can be claimed again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Protocol

from botocore.exceptions import ClientError
from pydantic import Field, StringConstraints

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds, iso, parse_iso, utc_now
from mlops_bot.storage import keys
from mlops_bot.stores.base import (
    MemoryTable,
    StoredItem,
    conditionally,
    from_dynamo,
    read_item,
    read_items,
    to_dynamo,
)

REPAIR_CLAIM_TTL = timedelta(days=30)
MAX_LINKED_INCIDENTS = 200  # the incidents that follow one claim's verdict (an item stays well below 400 KB)

Timestamp = Annotated[str, StringConstraints(min_length=1, max_length=40)]
IncidentId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class RepairClaim(StoredItem):
    """Who makes a repair (the first incident that planned it), and where its pull request is."""

    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    repository: Annotated[str, StringConstraints(min_length=1, max_length=201)]
    repair_key: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    action: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    incident_id: IncidentId  # the incident that makes the repair
    claimed_at: Timestamp
    renewed_at: Timestamp  # the claim's last use (a link); it expires REPAIR_CLAIM_TTL after
    branch: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    pull_request: int | None = Field(default=None, ge=1)
    pull_request_url: Url | None = None
    linked_incidents: list[IncidentId] = Field(default_factory=list, max_length=MAX_LINKED_INCIDENTS)
    escalated_by: IncidentId | None = None  # the incident that opens the one issue about this repair
    escalated_at: Timestamp | None = None
    issue: int | None = Field(default=None, ge=1)
    issue_url: Url | None = None

    def expires_at(self) -> int:
        return epoch_seconds(parse_iso(self.renewed_at) + REPAIR_CLAIM_TTL)

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at() <= epoch_seconds(now or utc_now())


class RepairClaimStore(Protocol):
    def get(self, tenant_id: str, repository: str, repair_key: str) -> RepairClaim | None:
        """The claim in force (an expired one is absent)."""
        ...

    def claim(self, claim: RepairClaim) -> RepairClaim:
        """Claim the key for `claim.incident_id` unless a claim is in force; the claim in force after
        (the caller's when it won, else the first writer's)."""
        ...

    def take_over(self, claim: RepairClaim, *, stale: RepairClaim) -> bool:
        """Replace `stale` (read before, no pull request yet) with `claim`, only if it is unchanged."""
        ...

    def record_pull_request(
        self,
        tenant_id: str,
        repository: str,
        repair_key: str,
        incident_id: str,
        *,
        number: int,
        url: str,
        branch: str | None,
    ) -> bool:
        """Note the claim's pull request; False when `incident_id` no longer holds the claim."""
        ...

    def link(self, tenant_id: str, repository: str, repair_key: str, incident_id: str) -> RepairClaim | None:
        """Add `incident_id` to the claim's followers (once) and renew it; None when there is no claim."""
        ...

    def begin_escalation(
        self, tenant_id: str, repository: str, repair_key: str, incident_id: str, *, stale_before: str
    ) -> RepairClaim | None:
        """Make `incident_id` the one to open the issue about the claim, unless another already is
        (and either opened it or began before `stale_before`); the claim after (its `escalated_by`
        says who won), None when there is no claim."""
        ...

    def record_issue(
        self, tenant_id: str, repository: str, repair_key: str, incident_id: str, *, number: int, url: str
    ) -> bool:
        """Note the issue the escalating incident opened; False when another incident escalates."""
        ...

    def release(self, tenant_id: str, repository: str, repair_key: str, incident_id: str) -> RepairClaim | None:
        """Drop `incident_id`'s claim when it never got a pull request; the dropped claim, else None."""
        ...

    def held_by(self, tenant_id: str, repository: str, incident_id: str) -> list[RepairClaim]:
        """The claims `incident_id` holds in the repository (in force or not)."""
        ...


class DynamoRepairClaimStore:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    @staticmethod
    def _item(claim: RepairClaim) -> dict[str, Any]:
        key = keys.repair_claim_key(claim.tenant_id, claim.repository, claim.repair_key)
        item: dict[str, Any] = to_dynamo(
            {**key, **claim.model_dump(mode="json", exclude_none=True), "expires_at": claim.expires_at()}
        )
        return item

    def get(self, tenant_id: str, repository: str, repair_key: str) -> RepairClaim | None:
        found = read_item(
            RepairClaim, self._table.get(keys.repair_claim_key(tenant_id, repository, repair_key)), "repair claim"
        )
        return None if found is None or found.expired() else found

    def claim(self, claim: RepairClaim) -> RepairClaim:
        for _ in range(3):  # an expired claim replaced, or a claim released, between the write and the read
            if conditionally(
                self._table.table.put_item,
                Item=self._item(claim),
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": epoch_seconds(utc_now())},
            ):
                return claim
            found = self.get(claim.tenant_id, claim.repository, claim.repair_key)
            if found is not None:
                return found
        raise RuntimeError(f"the claim on {claim.repair_key} keeps changing")

    def take_over(self, claim: RepairClaim, *, stale: RepairClaim) -> bool:
        return conditionally(
            self._table.table.put_item,
            Item=self._item(claim),
            ConditionExpression=("incident_id = :holder AND claimed_at = :at AND attribute_not_exists(pull_request)"),
            ExpressionAttributeValues={":holder": stale.incident_id, ":at": stale.claimed_at},
        )

    def record_pull_request(
        self,
        tenant_id: str,
        repository: str,
        repair_key: str,
        incident_id: str,
        *,
        number: int,
        url: str,
        branch: str | None,
    ) -> bool:
        updated = self._table.set_fields(
            keys.repair_claim_key(tenant_id, repository, repair_key),
            {"pull_request": number, "pull_request_url": url, **({"branch": branch} if branch else {})},
            condition="incident_id = :me",
            condition_values={":me": incident_id},
        )
        return updated is not None

    def link(self, tenant_id: str, repository: str, repair_key: str, incident_id: str) -> RepairClaim | None:
        now = utc_now()
        renewed = self.get(tenant_id, repository, repair_key)
        if renewed is None:
            return None
        renewed = renewed.model_copy(update={"renewed_at": iso(now)})
        updated = self._table.set_fields(
            keys.repair_claim_key(tenant_id, repository, repair_key),
            {"renewed_at": renewed.renewed_at, "expires_at": renewed.expires_at()},
            append={"linked_incidents": [incident_id]},
            if_exists=True,
            condition=(
                "incident_id <> :me AND (attribute_not_exists(linked_incidents)"
                " OR (NOT contains(linked_incidents, :me) AND size(linked_incidents) < :room))"
            ),
            condition_values={":me": incident_id, ":room": MAX_LINKED_INCIDENTS},
        )
        if updated is None:  # linked already (a retried step), the list is full, or the claim is gone
            return self.get(tenant_id, repository, repair_key)
        return read_item(RepairClaim, updated, "repair claim")

    def begin_escalation(
        self, tenant_id: str, repository: str, repair_key: str, incident_id: str, *, stale_before: str
    ) -> RepairClaim | None:
        updated = self._table.set_fields(
            keys.repair_claim_key(tenant_id, repository, repair_key),
            {"escalated_by": incident_id, "escalated_at": iso(utc_now())},
            if_exists=True,
            condition=(
                "attribute_not_exists(escalated_by) OR escalated_by = :me"
                " OR (attribute_not_exists(issue) AND escalated_at < :stale)"
            ),
            condition_values={":me": incident_id, ":stale": stale_before},
        )
        if updated is None:
            return self.get(tenant_id, repository, repair_key)
        return read_item(RepairClaim, updated, "repair claim")

    def record_issue(
        self, tenant_id: str, repository: str, repair_key: str, incident_id: str, *, number: int, url: str
    ) -> bool:
        updated = self._table.set_fields(
            keys.repair_claim_key(tenant_id, repository, repair_key),
            {"issue": number, "issue_url": url},
            condition="escalated_by = :me",
            condition_values={":me": incident_id},
        )
        return updated is not None

    def release(self, tenant_id: str, repository: str, repair_key: str, incident_id: str) -> RepairClaim | None:
        try:
            response = self._table.table.delete_item(
                Key=keys.repair_claim_key(tenant_id, repository, repair_key),
                ConditionExpression="incident_id = :me AND attribute_not_exists(pull_request)",
                ExpressionAttributeValues={":me": incident_id},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        # The item as it was deleted: with every follower that linked up to the last moment.
        return read_item(RepairClaim, from_dynamo(response.get("Attributes") or {}) or None, "repair claim")

    def held_by(self, tenant_id: str, repository: str, incident_id: str) -> list[RepairClaim]:
        items = self._table.query(keys.repair_claims_pk(tenant_id, repository), "REPAIR#")
        return [c for c in read_items(RepairClaim, items, "repair claim") if c.incident_id == incident_id]


class InMemoryRepairClaimStore:
    """The same promises behind the in-memory table's lock, for unit tests."""

    def __init__(self) -> None:
        self.claims: MemoryTable[tuple[str, str], RepairClaim] = MemoryTable()

    @staticmethod
    def _key(tenant_id: str, repository: str, repair_key: str) -> tuple[str, str]:
        built = keys.repair_claim_key(tenant_id, repository, repair_key)
        return built["pk"], built["sk"]

    def get(self, tenant_id: str, repository: str, repair_key: str) -> RepairClaim | None:
        found = self.claims.get(self._key(tenant_id, repository, repair_key))
        return None if found is None or found.expired() else found

    def claim(self, claim: RepairClaim) -> RepairClaim:
        key = self._key(claim.tenant_id, claim.repository, claim.repair_key)
        for _ in range(3):
            if self.claims.put_new(key, claim):
                return claim
            replaced = self.claims.update(key, lambda current: claim if current.expired() else None)
            if replaced is not None:
                return replaced
            found = self.get(claim.tenant_id, claim.repository, claim.repair_key)
            if found is not None:
                return found
        raise RuntimeError(f"the claim on {claim.repair_key} keeps changing")

    def take_over(self, claim: RepairClaim, *, stale: RepairClaim) -> bool:
        def replace(current: RepairClaim) -> RepairClaim | None:
            unchanged = current.incident_id == stale.incident_id and current.claimed_at == stale.claimed_at
            return claim if unchanged and current.pull_request is None else None

        return self.claims.update(self._key(claim.tenant_id, claim.repository, claim.repair_key), replace) is not None

    def record_pull_request(
        self,
        tenant_id: str,
        repository: str,
        repair_key: str,
        incident_id: str,
        *,
        number: int,
        url: str,
        branch: str | None,
    ) -> bool:
        def note(current: RepairClaim) -> RepairClaim | None:
            if current.incident_id != incident_id:
                return None
            noted = {"pull_request": number, "pull_request_url": url, **({"branch": branch} if branch else {})}
            return current.model_copy(update=noted)

        return self.claims.update(self._key(tenant_id, repository, repair_key), note) is not None

    def link(self, tenant_id: str, repository: str, repair_key: str, incident_id: str) -> RepairClaim | None:
        def add(current: RepairClaim) -> RepairClaim | None:
            if current.expired():
                return None
            followers = current.linked_incidents
            room = len(followers) < MAX_LINKED_INCIDENTS
            if incident_id != current.incident_id and incident_id not in followers and room:
                followers.append(incident_id)
            return current.model_copy(update={"renewed_at": iso(utc_now())})

        return self.claims.update(self._key(tenant_id, repository, repair_key), add)

    def begin_escalation(
        self, tenant_id: str, repository: str, repair_key: str, incident_id: str, *, stale_before: str
    ) -> RepairClaim | None:
        def begin(current: RepairClaim) -> RepairClaim | None:
            abandoned = current.issue is None and (current.escalated_at or "") < stale_before
            if current.escalated_by not in (None, incident_id) and not abandoned:
                return current
            return current.model_copy(update={"escalated_by": incident_id, "escalated_at": iso(utc_now())})

        return self.claims.update(self._key(tenant_id, repository, repair_key), begin)

    def record_issue(
        self, tenant_id: str, repository: str, repair_key: str, incident_id: str, *, number: int, url: str
    ) -> bool:
        def note(current: RepairClaim) -> RepairClaim | None:
            if current.escalated_by != incident_id:
                return None
            return current.model_copy(update={"issue": number, "issue_url": url})

        return self.claims.update(self._key(tenant_id, repository, repair_key), note) is not None

    def release(self, tenant_id: str, repository: str, repair_key: str, incident_id: str) -> RepairClaim | None:
        dropped: list[RepairClaim] = []

        def unclaimed(current: RepairClaim) -> bool:
            if current.incident_id != incident_id or current.pull_request is not None:
                return False
            dropped.append(current)
            return True

        self.claims.delete_if(self._key(tenant_id, repository, repair_key), unclaimed)
        return dropped[0] if dropped else None

    def held_by(self, tenant_id: str, repository: str, incident_id: str) -> list[RepairClaim]:
        pk = keys.repair_claims_pk(tenant_id, repository)
        return [c for c in self.claims.values(where=lambda k: k[0] == pk) if c.incident_id == incident_id]
