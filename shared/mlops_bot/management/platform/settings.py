"""What the management API needs beyond the shared settings: auth, signing, the fleet it reports on.

Kept apart from `mlops_bot.config.Settings` because only the management function reads these. The
template sets every variable on `ManagementApiFunction`; the local stack merges them into its
process. Read once per app (`create_app` forgets the cached copy).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from mlops_bot.access.settings import AccessSettings


class ManagementSettings(AccessSettings):
    """The shared and sign-in settings plus the management API's own (read from the environment the same way)."""

    # Compliance audit records are signed with this asymmetric KMS key (ECC_NIST_P256).
    compliance_key_id: str = Field(default="", alias="MLOPS_BOT_COMPLIANCE_KEY_ID")

    # The fleet `/api/cluster/*` reports on and redrives.
    fleet_functions: str = Field(default="", alias="MLOPS_BOT_FLEET_FUNCTIONS")
    events_dlq_url: str = Field(default="", alias="MLOPS_BOT_EVENTS_DLQ_URL")
    healing_dlq_url: str = Field(default="", alias="MLOPS_BOT_HEALING_DLQ_URL")
    redrive_strategy: Literal["auto", "move_task", "copy"] = Field(default="auto", alias="MLOPS_BOT_REDRIVE_STRATEGY")

    # Rate limits per tenant and endpoint category (the spec's table); management is overridable
    # at run time by the system configuration's `limits.rate_limit_per_minute`.
    management_rate_limit: int = Field(default=1000, alias="MLOPS_BOT_MANAGEMENT_RATE_LIMIT")
    analytics_rate_limit: int = Field(default=100, alias="MLOPS_BOT_ANALYTICS_RATE_LIMIT")
    rate_window_seconds: int = Field(default=60, alias="MLOPS_BOT_API_RATE_WINDOW_SECONDS")

    @property
    def fleet_function_names(self) -> list[str]:
        return [name.strip() for name in self.fleet_functions.split(",") if name.strip()]


@lru_cache(maxsize=1)
def get_management_settings() -> ManagementSettings:
    return ManagementSettings()


def reset_management_settings() -> None:
    get_management_settings.cache_clear()
