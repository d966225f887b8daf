"""Reading a tenant's stored records for the statistics routes (always one tenant at a time).

The listings come from the typed stores (`IncidentStore.all`, `EventStore.of_tenant`), which skip
and log a malformed item instead of failing the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from mlops_bot.clock import utc_now
from mlops_bot.stores.events import EventStore, ReceivedEvent
from mlops_bot.stores.incidents import Incident, IncidentStore

Item = dict[str, Any]


@dataclass(frozen=True)
class TenantRecords:
    """What the usage report and `/metrics` count: the tenant's incidents and its kept events."""

    incidents: IncidentStore
    events: EventStore


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
    return store.of_tenant(tenant_id, since=since, until=until)


def item_bytes(item: Item | BaseModel) -> int:
    """A record's approximate stored size (DynamoDB counts names and values; JSON is close)."""
    if isinstance(item, BaseModel):
        return len(item.model_dump_json(exclude_none=True).encode())
    return len(json.dumps(item, default=str, separators=(",", ":")).encode())
