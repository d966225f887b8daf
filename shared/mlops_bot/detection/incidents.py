"""Incidents (the spec's "issues" / "failures"): one per failure, updated rather than duplicated."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.storage import keys


class TimelineEntry(BaseModel):
    event: str
    timestamp: str
    details: str | None = None


class Incident(BaseModel):
    """The stored incident, with the spec's field names."""

    id: str
    tenant_id: str
    repository: str
    type: str
    severity: str
    status: str = "open"
    description: str
    detected_at: str
    resolved_at: str | None = None
    resolution_time: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    actions_taken: list[dict[str, Any]] = Field(default_factory=list)
    occurrences: int = 1
    diagnosis: dict[str, Any] | None = None
    attempts: int = 0


def incident_item(incident: Incident) -> dict[str, Any]:
    return {
        **keys.incident_key(incident.tenant_id, incident.id),
        "gsi1pk": keys.incidents_index(incident.tenant_id),
        "gsi1sk": f"{incident.detected_at}#{incident.id}",
        "entity": "incident",
        **incident.model_dump(mode="json", exclude_none=True),
    }


def open_or_update(table: StateTable, incident: Incident) -> tuple[Incident, bool]:
    """Store a new incident, or record another occurrence of a known one. True when new."""
    if table.put_new(incident_item(incident)):
        return incident, True
    now = iso(utc_now())
    updated = table.set_fields(
        keys.incident_key(incident.tenant_id, incident.id),
        {"last_seen_at": now, "metadata": incident.metadata},
        increments={"occurrences": 1},
        append={"timeline": [{"event": "failure_repeated", "timestamp": now}]},
    )
    return Incident.model_validate(updated or {}), False


def load(table: StateTable, tenant_id: str, incident_id: str) -> Incident | None:
    item = table.get(keys.incident_key(tenant_id, incident_id))
    return Incident.model_validate(item) if item else None


def add_timeline(table: StateTable, tenant_id: str, incident_id: str, event: str, details: str | None = None) -> None:
    entry = TimelineEntry(event=event, timestamp=iso(utc_now()), details=details)
    table.set_fields(
        keys.incident_key(tenant_id, incident_id),
        {},
        append={"timeline": [entry.model_dump(exclude_none=True)]},
        if_exists=True,
    )
