"""Repository events (what the detector saw) and the activity counters they move on the repository.

An event is stored once per delivery (a conditional write), so an SQS redelivery counts once; the
counters the detector and the healer keep on the repository item (`total_events`,
`issues_detected`, `repairs_attempted`, the last good deployment) move only through here.
"""

from __future__ import annotations

import builtins
from collections import Counter
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from botocore.exceptions import ClientError
from pydantic import Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds, utc_now
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, query_page, read_item, read_items, stored_fields

ONCE_MARKER_TTL = timedelta(days=30)  # long after any retry or sweep could count the same thing again


class ActivityCounter(StrEnum):
    ISSUES_DETECTED = "issues_detected"
    REPAIRS_ATTEMPTED = "repairs_attempted"


class EventRecord(StoredItem):
    tenant_id: str = Field(min_length=1, max_length=128)
    repository: str = Field(min_length=1, max_length=200)
    delivery_id: str = Field(min_length=1, max_length=200)
    execution_id: str = Field(max_length=200)
    received_at: str = Field(max_length=40)
    summary: dict[str, Any] = Field(default_factory=dict)


class GoodDeployment(StoredItem):
    ref: str | None = Field(default=None, max_length=255)
    environment: str | None = Field(default=None, max_length=255)
    deployment_id: int | None = None
    at: str | None = None


class EventStore(Protocol):
    def record(self, event: EventRecord, *, expires: datetime) -> bool:
        """Store the event once per delivery and count it on the repository; False for a repeat."""
        ...

    def list(self, tenant_id: str, repository: str) -> list[EventRecord]: ...

    def count(self, tenant_id: str, repository: str, counter: ActivityCounter, *, once: str | None = None) -> None:
        """Add one to a counter of an enrolled repository (nothing for one that is not enrolled).

        With `once` (an incident or action id), a second call for the same id adds nothing.
        """
        ...

    def record_good_deployment(self, tenant_id: str, repository: str, deployment: GoodDeployment) -> None: ...

    def of_tenant(
        self, tenant_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> builtins.list[ReceivedEvent]:
        """The tenant's kept events received in [since, until] (each bound optional), all repositories,
        oldest first, each with when it was processed and when the table expires it (None: never);
        with a bound, an event whose receipt time is unreadable is left out. A malformed stored event
        is logged and skipped."""
        ...


class DynamoEventStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def record(self, event: EventRecord, *, expires: datetime) -> bool:
        stored = self.table.put_new(
            {
                **keys.event_key(event.tenant_id, event.repository, event.received_at, event.delivery_id),
                "gsi1pk": keys.events_index(event.tenant_id),
                "gsi1sk": f"{event.received_at}#{event.delivery_id}",
                "entity": "event",
                **event.model_dump(mode="json"),
                "expires_at": epoch_seconds(expires),
            }
        )
        if stored:
            self.table.set_fields(
                keys.repository_key(event.tenant_id, event.repository),
                {"last_event": event.received_at},
                increments={"total_events": 1},
                if_exists=True,
            )
        return stored

    def list(self, tenant_id: str, repository: str) -> list[EventRecord]:
        items = self.table.query(keys.repository_events_pk(tenant_id, repository), "EVENT#")
        return _listed(items)

    def count(self, tenant_id: str, repository: str, counter: ActivityCounter, *, once: str | None = None) -> None:
        key = keys.repository_key(tenant_id, repository)
        if once is None:
            self.table.set_fields(key, {}, increments={counter.value: 1}, if_exists=True)
            return
        marker: dict[str, Any] = {
            **keys.activity_once_key(tenant_id, repository, counter.value, once),
            "entity": "activity_once",
            "expires_at": epoch_seconds(utc_now() + ONCE_MARKER_TTL),
        }
        try:
            self.table.table.meta.client.transact_write_items(  # the resource's client serialises values
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": marker,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table.name,
                            "Key": key,
                            "UpdateExpression": "ADD #counter :one",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeNames": {"#counter": counter.value},
                            "ExpressionAttributeValues": {":one": 1},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise  # cancelled: counted before, or the repository is not enrolled

    def record_good_deployment(self, tenant_id: str, repository: str, deployment: GoodDeployment) -> None:
        self.table.set_fields(
            keys.repository_key(tenant_id, repository),
            {"last_good_deployment": deployment.model_dump(mode="json", exclude_none=True)},
            if_exists=True,
        )

    def of_tenant(
        self, tenant_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> builtins.list[ReceivedEvent]:
        # The index is sorted by receipt time: read from `since` on, and stop past `until`.
        since, until = _aware(since), _aware(until)
        start = _index_second(since) if since is not None else None
        end = _index_second(until) if until is not None else None
        found: builtins.list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            items, cursor = query_page(
                self.table, keys.events_index(tenant_id), by_index=True, limit=500, cursor=cursor, sk_at_least=start
            )
            found.extend(items)
            past_end = end is not None and bool(items) and str(items[-1].get("gsi1sk", ""))[:19] > end
            if cursor is None or past_end:
                return [e for e in _kept(found) if _kept_between(e, since, until)]


class InMemoryEventStore:
    def __init__(self, repositories: set[tuple[str, str]] | None = None) -> None:
        self.events: MemoryTable[tuple[str, str, str], EventRecord] = MemoryTable()
        self.repositories = {(t, r.lower()) for t, r in repositories or set()}
        self.counters: Counter[tuple[str, str, str]] = Counter()
        self.good_deployments: dict[tuple[str, str], GoodDeployment] = {}
        self.counted_once: set[tuple[str, str, str]] = set()
        self.expiries: dict[tuple[str, str, str], int] = {}

    def record(self, event: EventRecord, *, expires: datetime) -> bool:
        stored = self.events.put_new((event.tenant_id, event.repository.lower(), event.delivery_id), event)
        if stored:
            self.expiries[(event.tenant_id, event.repository.lower(), event.delivery_id)] = epoch_seconds(expires)
        if stored and (event.tenant_id, event.repository.lower()) in self.repositories:
            self.counters[(event.tenant_id, event.repository.lower(), "total_events")] += 1
        return stored

    def list(self, tenant_id: str, repository: str) -> list[EventRecord]:
        found = self.events.values(lambda k: k[:2] == (tenant_id, repository.lower()))
        return sorted(found, key=lambda e: (e.received_at, e.delivery_id))

    def count(self, tenant_id: str, repository: str, counter: ActivityCounter, *, once: str | None = None) -> None:
        if (tenant_id, repository.lower()) not in self.repositories:
            return
        if once is not None:
            marker = (tenant_id, repository.lower(), f"{counter.value}#{once}")
            if marker in self.counted_once:
                return
            self.counted_once.add(marker)
        self.counters[(tenant_id, repository.lower(), counter.value)] += 1

    def record_good_deployment(self, tenant_id: str, repository: str, deployment: GoodDeployment) -> None:
        if (tenant_id, repository.lower()) in self.repositories:
            self.good_deployments[(tenant_id, repository.lower())] = deployment

    def of_tenant(
        self, tenant_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> builtins.list[ReceivedEvent]:
        since, until = _aware(since), _aware(until)
        known = self.events.keys()  # a MemoryTable, not a dict
        found = [
            ReceivedEvent(**event.model_dump(), expires_at=self.expiries.get(key))
            for key in known
            if key[0] == tenant_id and (event := self.events.get(key)) is not None
        ]
        chosen = [e for e in found if _kept_between(e, since, until)]
        return sorted(chosen, key=lambda e: (e.received_at, e.delivery_id))


def _listed(items: list[dict[str, Any]]) -> list[EventRecord]:
    return read_items(EventRecord, items, "event")


def _received(event: EventRecord) -> datetime | None:
    try:
        moment = datetime.fromisoformat(event.received_at)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------ events as kept (reports, compliance)

EXPIRY_ATTRIBUTE = "expires_at"  # the attribute the table's time to live must be on for events to expire


class ReceivedEvent(EventRecord):
    """A stored event as the reports read it: when it was processed (when the detector noted it) and
    when the table will expire it (None: never)."""

    processed_at: str | None = Field(default=None, max_length=40)
    expires_at: int | None = None


def _kept(items: list[dict[str, Any]]) -> list[ReceivedEvent]:
    """The items that are events, with their expiry; a malformed one is logged and skipped."""
    kept = ((i, {**stored_fields(i), "expires_at": i.get("expires_at")}) for i in items)
    return [event for i, fields in kept if (event := read_item(ReceivedEvent, i, "event", fields)) is not None]


def _kept_between(event: ReceivedEvent, since: datetime | None, until: datetime | None) -> bool:
    """Whether the event was received in [since, until]; with a bound, an unreadable time is out."""
    if since is None and until is None:
        return True
    at = _received(event)
    return at is not None and (since is None or since <= at) and (until is None or at <= until)


def _aware(moment: datetime | None) -> datetime | None:
    """A bound given without a zone means UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _index_second(moment: datetime) -> str:
    """The index sort key's leading receipt time, to the second (`received_at` is ISO in UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
