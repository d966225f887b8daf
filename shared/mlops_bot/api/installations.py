"""GitHub App onboarding (/api/v1/installations) and adding or removing a tenant's repositories.

`GET /api/v1/installations/setup` is the App's setup URL: GitHub's redirect carries no API
credentials, so the signed `state` is the credential there. Every other route needs the caller's
API key or access token: claims and repository changes need `admin`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.access import tokens
from mlops_bot.access.api_keys import Principal
from mlops_bot.api.dependencies import (
    installation_store,
    management_settings,
    repository_store,
    require,
    settings_dependency,
)
from mlops_bot.config import Settings
from mlops_bot.management.platform.settings import ManagementSettings
from mlops_bot.stores.installations import InstallationStore
from mlops_bot.stores.repositories import RepositoryStore
from mlops_bot.tenancy import installations as service

router = APIRouter(prefix="/api/v1", tags=["installations"])


def user_installations(settings: Annotated[Settings, Depends(settings_dependency)]) -> service.UserInstallations:
    return service.github_user_installations(settings)


class UserTokenClaim(BaseModel):
    model_config = ConfigDict(extra="forbid")

    github_user_token: str = Field(min_length=1, max_length=500, description="Used once to ask GitHub; never stored")


class SetupCallback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    installation_id: int = Field(ge=1)
    state: str = Field(min_length=1, max_length=2000)


@router.post("/installations/claims", response_model=service.ClaimState, status_code=201)
def issue_claim(
    caller: Annotated[Principal, Depends(require("admin"))],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
) -> service.ClaimState:
    """A signed state for the App's install link (`https://github.com/apps/<slug>/installations/new?state=...`)."""
    return service.issue_claim_state(tokens.signing_secret(settings), caller.tenant_id)


@router.get("/installations/setup", response_model=service.ClaimResult)
def setup_redirect(
    installation_id: Annotated[int, Query(ge=1)],
    state: Annotated[str, Query(min_length=1, max_length=2000)],
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
    store: Annotated[InstallationStore, Depends(installation_store)],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
    setup_action: Annotated[str | None, Query(max_length=20)] = None,
) -> service.ClaimResult:
    """GitHub's redirect after an installation (`?installation_id=&setup_action=install&state=`)."""
    del setup_action
    return service.claim_with_state(store, repositories, tokens.signing_secret(settings), installation_id, state)


@router.post("/installations/setup", response_model=service.ClaimResult)
def setup_callback(
    body: SetupCallback,
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
    store: Annotated[InstallationStore, Depends(installation_store)],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
) -> service.ClaimResult:
    """The same as the redirect, for a front end that forwards GitHub's parameters."""
    return service.claim_with_state(
        store, repositories, tokens.signing_secret(settings), body.installation_id, body.state
    )


@router.post("/installations/{installation_id}/claim", response_model=service.ClaimResult)
def claim_with_user_token(
    installation_id: int,
    body: UserTokenClaim,
    caller: Annotated[Principal, Depends(require("admin"))],
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
    store: Annotated[InstallationStore, Depends(installation_store)],
    ask_github: Annotated[service.UserInstallations, Depends(user_installations)],
) -> service.ClaimResult:
    return service.claim_with_user_token(
        store, repositories, ask_github, installation_id, body.github_user_token, caller.tenant_id
    )


@router.get("/installations", response_model=service.InstallationList)
def list_installations(
    caller: Annotated[Principal, Depends(require("read"))],
    store: Annotated[InstallationStore, Depends(installation_store)],
) -> service.InstallationList:
    return service.tenant_installations(store, caller.tenant_id)


@router.get("/installations/{installation_id}", response_model=service.InstallationView)
def get_installation(
    installation_id: int,
    caller: Annotated[Principal, Depends(require("read"))],
    store: Annotated[InstallationStore, Depends(installation_store)],
) -> service.InstallationView:
    return service.tenant_installation(store, caller.tenant_id, installation_id)


@router.post("/repositories", response_model=service.RepositoryChange, status_code=201)
def add_repository(
    body: service.RepositoryAdd,
    caller: Annotated[Principal, Depends(require("admin"))],
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
    store: Annotated[InstallationStore, Depends(installation_store)],
) -> service.RepositoryChange:
    return service.add_repository(store, repositories, caller.tenant_id, body)


@router.delete("/repositories/{owner}/{repo}", status_code=204)
def remove_repository(
    owner: str,
    repo: str,
    caller: Annotated[Principal, Depends(require("admin"))],
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
    store: Annotated[InstallationStore, Depends(installation_store)],
) -> Response:
    service.remove_repository(store, repositories, caller.tenant_id, f"{owner}/{repo}")
    return Response(status_code=204)
