"""System configuration (/api/v1/config): read by any caller, changed by operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from mlops_bot.access.api_keys import Principal
from mlops_bot.api.dependencies import (
    TimedCache,
    management_settings,
    repository_store,
    require,
    require_operator,
    settings_dependency,
    system_config_store,
)
from mlops_bot.api.health import GITHUB_CACHE_KEY
from mlops_bot.config import Settings
from mlops_bot.management.platform import health as checks
from mlops_bot.management.platform import system_config as service
from mlops_bot.management.platform.settings import ManagementSettings
from mlops_bot.stores.repositories import RepositoryStore
from mlops_bot.stores.system_config import SystemConfigStore

router = APIRouter(prefix="/api/v1", tags=["configuration"])


def _view(
    request: Request,
    caller: Principal,
    settings: Settings,
    management: ManagementSettings,
    configured: SystemConfigStore,
    repositories: RepositoryStore,
) -> service.SystemConfig:
    cache: TimedCache = request.app.state.cache
    github = cache.get(GITHUB_CACHE_KEY, lambda: checks.timed(checks.github_probe(settings)))
    remaining = (github.details or {}).get("rate_limit_remaining")
    return service.view(
        service.load(configured, management.management_rate_limit),
        settings.environment,
        service.GitHubIntegration(
            enabled=settings.has_github_credentials,
            dry_run=settings.dry_run,
            rate_limit_remaining=int(remaining) if remaining is not None else None,
        ),
        max_file_size_mb=max(1, settings.max_webhook_bytes // (1024 * 1024)),
        slack_channels=service.slack_channels(repositories, caller.tenant_id),
    )


@router.get("/config", response_model=service.SystemConfig)
def get_config(
    request: Request,
    caller: Annotated[Principal, Depends(require("read"))],
    settings: Annotated[Settings, Depends(settings_dependency)],
    management: Annotated[ManagementSettings, Depends(management_settings)],
    configured: Annotated[SystemConfigStore, Depends(system_config_store)],
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
) -> service.SystemConfig:
    return _view(request, caller, settings, management, configured, repositories)


@router.put("/config", response_model=service.ConfigUpdated)
def update_config(
    request: Request,
    body: service.ConfigUpdate,
    caller: Annotated[Principal, Depends(require_operator)],
    settings: Annotated[Settings, Depends(settings_dependency)],
    management: Annotated[ManagementSettings, Depends(management_settings)],
    configured: Annotated[SystemConfigStore, Depends(system_config_store)],
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
) -> service.ConfigUpdated:
    """Every accepted key applies within a minute (`restart_required` is false); keys that only describe
    the platform answer 422 when given another value than the one shown."""
    shown = _view(request, caller, settings, management, configured, repositories)
    updated = service.update(configured, body, management.management_rate_limit, caller.key_id, shown)
    return updated
