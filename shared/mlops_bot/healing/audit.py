"""An audit record for every write the bot makes or plans: who, what, why, result."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.storage import keys


class AuditRecord(BaseModel):
    tenant_id: str
    installation_id: int | None = None
    repository: str
    method: str
    path: str
    summary: str
    incident_id: str | None = None
    playbook: str | None = None
    rule: str | None = None
    dry_run: bool
    result: str
    details: dict[str, Any] = Field(default_factory=dict)


def record(table: StateTable, entry: AuditRecord) -> str:
    audit_id = str(uuid.uuid4())
    at = iso(utc_now())
    table.put(
        {
            **keys.audit_key(entry.tenant_id, at, audit_id),
            "entity": "audit",
            "id": audit_id,
            "at": at,
            **entry.model_dump(mode="json", exclude_none=True),
        }
    )
    return audit_id


def list_records(table: StateTable, tenant_id: str, limit: int = 100) -> list[dict[str, Any]]:
    return table.query(keys.audit_pk(tenant_id), "AUDIT#", newest_first=True, limit=limit)
