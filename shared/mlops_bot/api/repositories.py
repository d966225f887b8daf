"""Monitored repositories (/api/v1/repositories)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.api.dependencies import require, state_table
from mlops_bot.management import repositories as service

router = APIRouter(prefix="/api/v1", tags=["repositories"])


@router.get("/repositories", response_model=service.RepositoryList)
def list_repositories(
    caller: Annotated[Principal, Depends(require("read"))],
    table: Annotated[StateTable, Depends(state_table)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: Literal["active", "paused", "error"] | None = None,
) -> service.RepositoryList:
    return service.list_repositories(table, caller.tenant_id, limit, offset, status)


@router.get("/repositories/{owner}/{repo}", response_model=service.RepositoryDetails)
def get_repository(
    owner: str,
    repo: str,
    caller: Annotated[Principal, Depends(require("read"))],
    table: Annotated[StateTable, Depends(state_table)],
) -> service.RepositoryDetails:
    return service.repository_details(table, caller.tenant_id, f"{owner}/{repo}")


@router.put("/repositories/{owner}/{repo}/config", response_model=service.ConfigUpdated)
def update_repository_config(
    owner: str,
    repo: str,
    body: service.RepositoryConfigUpdate,
    caller: Annotated[Principal, Depends(require("write"))],
    table: Annotated[StateTable, Depends(state_table)],
) -> service.ConfigUpdated:
    return service.update_configuration(table, caller.tenant_id, f"{owner}/{repo}", body)
