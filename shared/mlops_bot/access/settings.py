"""What signing in needs beyond the shared settings: the JWT secret, token lifetimes, the login limit.

The management API's settings (`management.platform.settings.ManagementSettings`) extend these, so
the access services read exactly what they use and never import the layer above them.
"""

from __future__ import annotations

from pydantic import Field

from mlops_bot.config import Settings
from mlops_bot.storage import keys


class AccessSettings(Settings):
    """The shared settings plus sign-in's own (read from the environment the same way)."""

    # JWT (HS256). The secret comes from Secrets Manager; MLOPS_BOT_JWT_SECRET overrides it locally.
    jwt_secret: str | None = Field(default=None, alias="MLOPS_BOT_JWT_SECRET")
    jwt_secret_name: str = Field(default="", alias="MLOPS_BOT_JWT_SECRET_NAME")
    access_token_seconds: int = Field(default=3600, alias="MLOPS_BOT_ACCESS_TOKEN_SECONDS")
    refresh_token_seconds: int = Field(default=14 * 24 * 3600, alias="MLOPS_BOT_REFRESH_TOKEN_SECONDS")

    # The admins of this tenant operate the platform: all tenants, the fleet, system configuration.
    # A login without a tenant looks its user up here first.
    operator_tenant: str = Field(default=keys.DEFAULT_TENANT, alias="MLOPS_BOT_OPERATOR_TENANT")

    # Failures one address may have for one user before its back-off starts (access.throttle).
    login_attempts_per_window: int = Field(default=20, alias="MLOPS_BOT_LOGIN_ATTEMPTS")
