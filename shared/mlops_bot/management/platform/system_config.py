"""The system configuration (`/api/v1/config`): features, limits, integrations.

One document for the deployment, stored in the table and changed by operators; readers cache it
for at most 60 s (the API 30 s), so every accepted change applies within a minute, never after a
restart (`restart_required` is always false). What each key does:

* `limits.rate_limit_per_minute`: the management rate limit of every tenant.
* `features.advanced_analytics`: off, `/api/v1/analytics` answers the summary only (no hourly
  series, breakdown or top repositories).
* `integrations.slack.enabled`, `integrations.email.enabled`: deployment-wide switches for
  the repositories' Slack and e-mail notifications (off: nothing is sent on that channel).

Keys that describe the platform rather than configure it are shown but cannot be changed; a
different value is refused with 422 instead of being stored and ignored:
`features.auto_scaling` (Lambda always scales), `features.predictive_scaling` (none exists),
`limits.max_concurrent_executions` (the bot sets no concurrency limit: null),
`limits.max_file_size_mb` (the ingress's body limit, `MLOPS_BOT_MAX_WEBHOOK_BYTES` at deploy),
`integrations.slack.channels_configured` (counted from the repositories' configurations).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot import __version__
from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import ValidationFailed
from mlops_bot.stores.repositories import RepositoryStore
from mlops_bot.stores.system_config import (
    Features,
    Integrations,
    Limits,
    SlackIntegration,
    StoredConfig,
    SystemConfigStore,
    Toggle,
    forget_cached,
)

__all__ = [
    "ConfigUpdate",
    "ConfigUpdated",
    "Features",
    "GitHubIntegration",
    "Integrations",
    "Limits",
    "SlackIntegration",
    "StoredConfig",
    "SystemConfig",
    "Toggle",
    "current",
    "forget_current",
    "load",
    "slack_channels",
    "update",
    "view",
    "with_integrations",
]

CACHE_SECONDS = 60.0
FIXED_MESSAGES = {
    "features.auto_scaling": "Lambda always scales with the queues; there is nothing to switch",
    "features.predictive_scaling": "the bot has no predictive scaling",
    "limits.max_concurrent_executions": "the bot sets no concurrency limit (Lambda's account concurrency applies)",
    "limits.max_file_size_mb": "it is the webhook ingress's body limit, set at deploy (MLOPS_BOT_MAX_WEBHOOK_BYTES)",
    "integrations.slack.channels_configured": "it is counted from the repositories' notification settings",
}


class FeaturesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_scaling: bool | None = None
    predictive_scaling: bool | None = None
    advanced_analytics: bool | None = None


class LimitsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_concurrent_executions: int | None = Field(default=None, ge=1, le=100_000)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    max_file_size_mb: int | None = Field(default=None, ge=1, le=25)


class SlackUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    channels_configured: int | None = Field(default=None, ge=0, le=1000)


class ToggleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None


class IntegrationsUpdate(BaseModel):
    """GitHub is configured by its credentials (Secrets Manager), not here."""

    model_config = ConfigDict(extra="forbid")

    slack: SlackUpdate | None = None
    email: ToggleUpdate | None = None


class ConfigUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    features: FeaturesUpdate | None = None
    limits: LimitsUpdate | None = None
    integrations: IntegrationsUpdate | None = None


class GitHubIntegration(BaseModel):
    enabled: bool
    dry_run: bool
    rate_limit_remaining: int | None


class IntegrationsView(BaseModel):
    github: GitHubIntegration
    slack: SlackIntegration
    email: Toggle


class SystemConfig(BaseModel):
    version: str
    environment: str
    features: Features
    limits: Limits
    integrations: IntegrationsView
    updated_at: str | None = None


class ConfigUpdated(BaseModel):
    message: str = "Configuration updated successfully"
    updated_at: str
    restart_required: bool = False
    restart_reasons: list[str] = Field(default_factory=list)


def _effective(found: StoredConfig | None, default_rate_limit: int) -> StoredConfig:
    stored = found or StoredConfig()
    if "rate_limit_per_minute" not in stored.limits.model_fields_set:
        stored.limits.rate_limit_per_minute = default_rate_limit
    # What the platform is, whatever an older version stored.
    stored.features.auto_scaling, stored.features.predictive_scaling = True, False
    stored.limits.max_concurrent_executions = None
    return stored


def load(store: SystemConfigStore, default_rate_limit: int) -> StoredConfig:
    """The configuration as stored now (the deployment's rate limit where none was ever set)."""
    return _effective(store.get(), default_rate_limit)


def current(store: SystemConfigStore, default_rate_limit: int = 1000) -> StoredConfig:
    """The stored configuration as every reader sees it (the API, notifications): at most 60 s old,
    and at once after a write by this process."""
    return _effective(store.cached(max_age=CACHE_SECONDS), default_rate_limit)


def forget_current() -> None:
    """Forget every cached copy: the next `current` reads the table."""
    forget_cached()


def slack_channels(repositories: RepositoryStore, tenant_id: str) -> int:
    """The tenant's repositories that notify on Slack (with a webhook URL to send to)."""
    return sum(
        1
        for repository in repositories.of_tenant(tenant_id)
        if "slack" in (repository.configuration.notification_channels or [])
        and (repository.configuration.model_extra or {}).get("slack_webhook_url")
    )


def with_integrations(configuration: dict[str, Any], stored: StoredConfig) -> dict[str, Any]:
    """A repository's notification settings with the deployment's switches applied."""
    switched_off = {
        name
        for name, toggle in (("slack", stored.integrations.slack), ("email", stored.integrations.email))
        if not toggle.enabled
    }
    if not switched_off:
        return configuration
    channels = [c for c in configuration.get("notification_channels") or [] if c not in switched_off]
    return {**configuration, "notification_channels": channels}


def view(
    stored: StoredConfig,
    environment: str,
    github: GitHubIntegration,
    max_file_size_mb: int | None = None,
    slack_channels: int | None = None,
) -> SystemConfig:
    limits = stored.limits.model_copy()
    if max_file_size_mb is not None:
        limits.max_file_size_mb = max_file_size_mb
    slack = stored.integrations.slack.model_copy()
    if slack_channels is not None:
        slack.channels_configured = slack_channels
    return SystemConfig(
        version=__version__,
        environment=environment,
        features=stored.features,
        limits=limits,
        integrations=IntegrationsView(github=github, slack=slack, email=stored.integrations.email),
        updated_at=stored.updated_at,
    )


def _refuse_fixed(changes: dict[str, Any], shown: dict[str, Any]) -> None:
    """A key that cannot be configured is refused unless it repeats the value shown."""
    for path, value in _flatten(changes).items():
        if path in FIXED_MESSAGES and shown.get(path) != value:
            raise ValidationFailed(
                "Request validation failed",
                f"{path} cannot be changed: {FIXED_MESSAGES[path]}",
                fields=[{"loc": f"body.{path}", "msg": FIXED_MESSAGES[path], "type": "value_error"}],
            )


def _flatten(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in document.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _nulls(given: dict[str, Any], prefix: str = "") -> list[str]:
    found: list[str] = []
    for key, value in given.items():
        if value is None:
            found.append(f"{prefix}{key}")
        elif isinstance(value, dict):
            found.extend(_nulls(value, f"{prefix}{key}."))
    return found


def _refuse_nulls(given: dict[str, Any]) -> None:
    """A `null` would otherwise be dropped and the key left as it was: give the value wanted instead."""
    nulls = _nulls(given)
    if nulls:
        why = "null does not reset a setting; give the value wanted"
        raise ValidationFailed(
            "Request validation failed",
            f"{', '.join(nulls)}: {why}",
            fields=[{"loc": f"body.{key}", "msg": why, "type": "value_error"} for key in nulls],
        )


def update(
    store: SystemConfigStore, update: ConfigUpdate, default_rate_limit: int, updated_by: str, shown: SystemConfig
) -> ConfigUpdated:
    _refuse_nulls(update.model_dump(exclude_unset=True))
    changes = update.model_dump(exclude_none=True)
    if not _flatten(changes):
        raise ValidationFailed("Request validation failed", "Give at least one of features, limits, integrations")
    _refuse_fixed(changes, _flatten(shown.model_dump()))
    merged = load(store, default_rate_limit).model_dump(include={"features", "limits", "integrations"})
    for section, values in changes.items():
        for name, value in values.items():
            if isinstance(value, dict):
                merged[section][name].update(value)
            else:
                merged[section][name] = value
    now = iso(utc_now())
    store.put(StoredConfig.model_validate({**merged, "updated_at": now, "updated_by": updated_by}))
    return ConfigUpdated(updated_at=now)
