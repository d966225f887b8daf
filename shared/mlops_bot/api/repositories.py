"""Monitored repositories (/api/v1/repositories)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from mlops_bot.access.api_keys import Principal
from mlops_bot.api.dependencies import incident_store, repository_store, require, settings_dependency
from mlops_bot.config import Settings
from mlops_bot.errors import ValidationFailed
from mlops_bot.management.watching import repositories as service
from mlops_bot.repository_names import full_name_problem
from mlops_bot.stores.incidents import IncidentStore
from mlops_bot.stores.repositories import RepositoryStore

router = APIRouter(prefix="/api/v1", tags=["repositories"])


def repository_full_name(owner: Annotated[str, Path(max_length=39)], repo: Annotated[str, Path(max_length=100)]) -> str:
    """`owner/repo` from the path, refused (422) unless GitHub itself would accept the name."""
    full_name = f"{owner}/{repo}"
    problem = full_name_problem(full_name)
    if problem:
        raise ValidationFailed("Request validation failed", f"path: {problem}")
    return full_name


@router.get("/repositories", response_model=service.RepositoryList)
def list_repositories(
    caller: Annotated[Principal, Depends(require("read"))],
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: Literal["active", "paused", "error"] | None = None,
) -> service.RepositoryList:
    return service.list_repositories(repositories, caller.tenant_id, limit, offset, status)


@router.get("/repositories/{owner}/{repo}", response_model=service.RepositoryDetails)
def get_repository(
    caller: Annotated[Principal, Depends(require("read"))],
    full_name: Annotated[str, Depends(repository_full_name)],
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
) -> service.RepositoryDetails:
    return service.repository_details(repositories, incidents, caller.tenant_id, full_name)


@router.put("/repositories/{owner}/{repo}/config", response_model=service.ConfigUpdated)
def update_repository_config(
    caller: Annotated[Principal, Depends(require("write"))],
    full_name: Annotated[str, Depends(repository_full_name)],
    body: service.RepositoryConfigUpdate,
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
    settings: Annotated[Settings, Depends(settings_dependency)],
) -> service.ConfigUpdated:
    return service.update_configuration(
        repositories, caller.tenant_id, full_name, body, email_sender=bool(settings.notification_sender)
    )
