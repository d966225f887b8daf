"""Reading a tenant's stored records for the statistics routes (always one tenant at a time)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys

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


def incidents(table: StateTable, tenant_id: str) -> list[Item]:
    """Every incident of the tenant, newest first."""
    return table.query(keys.incidents_index(tenant_id), by_index=True, newest_first=True)


def _prefixes(since: datetime, until: datetime) -> list[str]:
    """Sort-key prefixes covering [since, until]: days for short spans, months for long ones."""
    prefixes: list[str] = []
    if until - since <= timedelta(days=3):
        day = since.date()
        while day <= until.date():
            prefixes.append(day.isoformat())
            day += timedelta(days=1)
        return prefixes
    year, month = since.year, since.month
    while (year, month) <= (until.year, until.month):
        prefixes.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return prefixes


def events(
    table: StateTable, tenant_id: str, since: datetime | None = None, until: datetime | None = None
) -> list[Item]:
    """The tenant's recorded repository events received in [since, until] (all of them without `since`)."""
    if since is None:
        return table.query(keys.events_index(tenant_id), by_index=True)
    end = until or datetime.now(UTC)
    found: list[Item] = []
    for prefix in _prefixes(since, end):
        found.extend(table.query(keys.events_index(tenant_id), prefix, by_index=True))
    return [e for e in found if (t := parse_time(e.get("received_at"))) is not None and since <= t <= end]


def item_bytes(item: Item) -> int:
    """An item's approximate stored size (DynamoDB counts names and values; JSON is close)."""
    return len(json.dumps(item, default=str, separators=(",", ":")).encode())
