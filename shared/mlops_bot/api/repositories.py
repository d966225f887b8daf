"""Monitored repositories (/api/v1/repositories)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.api.dependencies import require, state_table
from mlops_bot.errors import NotFound
from mlops_bot.storage import keys

router = APIRouter(prefix="/api/v1", tags=["repositories"])


def summary(item: dict[str, Any]) -> dict[str, Any]:
    attempted = int(item.get("repairs_attempted", 0))
    return {
        "id": item.get("full_name"),
        "full_name": item.get("full_name"),
        "status": item.get("status", "active"),
        "last_event": item.get("last_event"),
        "issues_detected": int(item.get("issues_detected", 0)),
        "repairs_attempted": attempted,
        "success_rate": round(int(item.get("repairs_successful", 0)) / attempted, 4) if attempted else None,
    }


@router.get("/repositories")
def list_repositories(
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    status: str | None = Query(None, pattern="^(active|paused|error)$"),
    caller: Principal = Depends(require("read")),  # noqa: B008
    table: StateTable = Depends(state_table),  # noqa: B008
) -> dict[str, Any]:
    items = [summary(i) for i in table.query(keys.tenant_pk(caller.tenant_id), "REPO#")]
    if status:
        items = [i for i in items if i["status"] == status]
    return {
        "repositories": items[offset : offset + limit],
        "total": len(items),
        "limit": limit,
        "offset": offset,
    }


@router.get("/repositories/{owner}/{repo}")
def get_repository(
    owner: str,
    repo: str,
    caller: Principal = Depends(require("read")),  # noqa: B008
    table: StateTable = Depends(state_table),  # noqa: B008
) -> dict[str, Any]:
    item = table.get(keys.repository_key(caller.tenant_id, f"{owner}/{repo}"))
    if item is None:
        raise NotFound("Repository not found", f"{owner}/{repo} is not monitored by this tenant")
    return {
        **summary(item),
        "configuration": item.get("configuration", {}),
        "statistics": {
            "total_events": int(item.get("total_events", 0)),
            "issues_detected": int(item.get("issues_detected", 0)),
            "repairs_successful": int(item.get("repairs_successful", 0)),
            "repairs_failed": int(item.get("repairs_failed", 0)),
            "last_activity": item.get("last_event"),
        },
    }
