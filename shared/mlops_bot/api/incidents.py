"""Incidents as the spec's "issues" (/api/v1/issues)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.api.dependencies import require, state_table
from mlops_bot.errors import NotFound
from mlops_bot.storage import keys

router = APIRouter(prefix="/api/v1", tags=["issues"])

PUBLIC_FIELDS = (
    "id",
    "repository",
    "type",
    "severity",
    "status",
    "description",
    "detected_at",
    "resolved_at",
    "resolution_time",
    "metadata",
    "evidence",
    "timeline",
    "actions_taken",
    "occurrences",
    "playbook",
)


def public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in PUBLIC_FIELDS if k in item}


@router.get("/issues")
def list_issues(
    repository: str | None = None,
    type: str | None = None,
    severity: str | None = None,
    status: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    caller: Principal = Depends(require("read")),  # noqa: B008
    table: StateTable = Depends(state_table),  # noqa: B008
) -> dict[str, Any]:
    items = table.query(keys.incidents_index(caller.tenant_id), by_index=True, newest_first=True)
    wanted = [
        public(i)
        for i in items
        if (repository is None or i.get("repository", "").lower() == repository.lower())
        and (type is None or i.get("type") == type)
        and (severity is None or i.get("severity") == severity)
        and (status is None or i.get("status") == status)
    ]
    return {"issues": wanted[offset : offset + limit], "total": len(wanted), "limit": limit, "offset": offset}


@router.get("/issues/{incident_id}")
def get_issue(
    incident_id: str,
    caller: Principal = Depends(require("read")),  # noqa: B008
    table: StateTable = Depends(state_table),  # noqa: B008
) -> dict[str, Any]:
    item = table.get(keys.incident_key(caller.tenant_id, incident_id))
    if item is None:
        raise NotFound("Issue not found", f"No issue '{incident_id}' in this tenant")
    return public(item)
