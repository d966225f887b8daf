"""The system configuration (`/api/v1/config`): features, limits, integrations.

One document for the deployment, changed by operators. `limits.rate_limit_per_minute` is the
management rate limit of every tenant and applies within a minute (the API caches the document
briefly). `max_concurrent_executions` and `max_file_size_mb` are deployment settings (Lambda
reserved concurrency, the ingress's body limit read at cold start): a change to them is stored and
answers `restart_required: true` — it takes effect with the next deployment.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot import __version__
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import ValidationFailed
from mlops_bot.storage import keys

RESTART_FIELDS = frozenset({"limits.max_concurrent_executions", "limits.max_file_size_mb"})


class Features(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_scaling: bool = True
    predictive_scaling: bool = False
    advanced_analytics: bool = True


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_concurrent_executions: int = Field(default=50, ge=1, le=1000)
    rate_limit_per_minute: int = Field(default=1000, ge=1, le=100_000)
    max_file_size_mb: int = Field(default=25, ge=1, le=25)


class Toggle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False


class SlackIntegration(Toggle):
    channels_configured: int = Field(default=0, ge=0, le=1000)


class Integrations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slack: SlackIntegration = Field(default_factory=SlackIntegration)
    email: Toggle = Field(default_factory=Toggle)


class StoredConfig(BaseModel):
    features: Features = Field(default_factory=Features)
    limits: Limits = Field(default_factory=Limits)
    integrations: Integrations = Field(default_factory=Integrations)
    updated_at: str | None = None


class FeaturesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_scaling: bool | None = None
    predictive_scaling: bool | None = None
    advanced_analytics: bool | None = None


class LimitsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_concurrent_executions: int | None = Field(default=None, ge=1, le=1000)
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
    restart_required: bool
    restart_reasons: list[str] = Field(default_factory=list)


def load(table: StateTable, default_rate_limit: int) -> StoredConfig:
    item = table.get(keys.system_config_key(), consistent=False) or {}
    stored = StoredConfig.model_validate({k: v for k, v in item.items() if k in StoredConfig.model_fields})
    if "rate_limit_per_minute" not in (item.get("limits") or {}):
        stored.limits.rate_limit_per_minute = default_rate_limit
    return stored


def view(stored: StoredConfig, environment: str, github: GitHubIntegration) -> SystemConfig:
    return SystemConfig(
        version=__version__,
        environment=environment,
        features=stored.features,
        limits=stored.limits,
        integrations=IntegrationsView(github=github, slack=stored.integrations.slack, email=stored.integrations.email),
        updated_at=stored.updated_at,
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


def update(table: StateTable, update: ConfigUpdate, default_rate_limit: int, updated_by: str) -> ConfigUpdated:
    changes = update.model_dump(exclude_none=True)
    if not _flatten(changes):
        raise ValidationFailed("Request validation failed", "Give at least one of features, limits, integrations")
    current = load(table, default_rate_limit)
    before = _flatten(current.model_dump(exclude={"updated_at"}))
    merged = current.model_dump(exclude={"updated_at"})
    for section, values in changes.items():
        for name, value in values.items():
            if isinstance(value, dict):
                merged[section][name].update(value)
            else:
                merged[section][name] = value
    validated = StoredConfig.model_validate(merged)
    after = _flatten(validated.model_dump(exclude={"updated_at"}))
    changed = sorted(path for path, value in after.items() if before.get(path) != value)
    now = iso(utc_now())
    table.put(
        {
            **keys.system_config_key(),
            "entity": "system_config",
            **validated.model_dump(exclude={"updated_at"}),
            "updated_at": now,
            "updated_by": updated_by,
        }
    )
    reasons = [path for path in changed if path in RESTART_FIELDS]
    return ConfigUpdated(updated_at=now, restart_required=bool(reasons), restart_reasons=reasons)
