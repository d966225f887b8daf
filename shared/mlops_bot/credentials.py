"""Secrets, read through powertools parameters (cached) or taken from the environment locally.

In AWS the webhook secret and the GitHub credentials live in Secrets Manager; the template passes
their names. `GITHUB_WEBHOOK_SECRET` / `GITHUB_TOKEN` in the environment win, which is how the
local stack and tests configure them. Values are never logged.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities import parameters

from mlops_bot.config import Settings

SECRET_CACHE_SECONDS = 300


def webhook_secret(settings: Settings) -> str:
    if settings.webhook_secret:
        return settings.webhook_secret
    if not settings.webhook_secret_name:
        return ""
    value = parameters.get_secret(settings.webhook_secret_name, max_age=SECRET_CACHE_SECONDS)
    return str(value)


def github_credentials(settings: Settings) -> dict[str, Any]:
    """`{"token": ...}` or `{"app_id": ..., "private_key": ...}`; empty when none are configured."""
    if settings.github_token:
        return {"token": settings.github_token}
    if settings.github_app_id and settings.github_app_private_key:
        return {"app_id": settings.github_app_id, "private_key": settings.github_app_private_key}
    if not settings.github_credentials_secret_name:
        return {}
    raw = parameters.get_secret(settings.github_credentials_secret_name, max_age=SECRET_CACHE_SECONDS)
    try:
        document = json.loads(str(raw))
    except json.JSONDecodeError:
        return {"token": str(raw)}
    return {k: v for k, v in document.items() if v} if isinstance(document, dict) else {}
