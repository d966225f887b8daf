"""Reading a tenant's stored records for the statistics routes (always one tenant at a time).

The listings come from the typed stores (`IncidentStore.all`, `EventStore.received`), which skip
and log a malformed item instead of failing the report. `incidents` and `events` below still take
the table and answer plain dicts, for the reports not yet moved onto the stores' models.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import utc_now
from mlops_bot.stores.events import DynamoEventStore, EventStore, ReceivedEvent
from mlops_bot.stores.incidents import DynamoIncidentStore, Incident, IncidentStore

Item = dict[str, Any]


def parse_time(value: Any) -> datetime | None:
    """A stored ISO timestamp (with `Z`) as an aware datetime; None when absent or unreadable."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def aware(moment: datetime | None) -> datetime | None:
    """Query parameters may come without a zone: they mean UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def tenant_incidents(store: IncidentStore, tenant_id: str) -> list[Incident]:
    """Every incident of the tenant, newest first."""
    return store.all(tenant_id)


def tenant_events(
    store: EventStore, tenant_id: str, since: datetime | None = None, until: datetime | None = None
) -> list[ReceivedEvent]:
    """The tenant's recorded repository events received in [since, until] (all of them without `since`;
    up to now without `until`)."""
    since = aware(since)
    until = aware(until) or (utc_now() if since is not None else None)
    return store.received(tenant_id, since=since, until=until)


def incidents(table: StateTable, tenant_id: str) -> list[Item]:
    """`tenant_incidents` as plain dicts, for callers still reading fields by name."""
    found = tenant_incidents(DynamoIncidentStore(table), tenant_id)
    return [i.model_dump(mode="json", exclude_none=True) for i in found]


def events(
    table: StateTable, tenant_id: str, since: datetime | None = None, until: datetime | None = None
) -> list[Item]:
    """`tenant_events` as plain dicts (with `expires_at`), for callers still reading fields by name."""
    found = tenant_events(DynamoEventStore(table), tenant_id, since, until)
    return [e.model_dump(mode="json", exclude_none=True) for e in found]


def item_bytes(item: Item | BaseModel) -> int:
    """A record's approximate stored size (DynamoDB counts names and values; JSON is close)."""
    if isinstance(item, BaseModel):
        return len(item.model_dump_json(exclude_none=True).encode())
    return len(json.dumps(item, default=str, separators=(",", ":")).encode())
