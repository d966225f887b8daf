"""Runtime configuration, read once per cold start from the environment.

Every function of the bundle reads the same variables (the template sets them in `Globals`), so one
settings object serves them all. The local stack sets the same variables before it imports a handler.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_GITHUB_API_URL = "https://api.github.com"


class Settings(BaseModel):
    """What a function needs to know about its deployment, from the environment.

    A plain pydantic model over `os.environ` (names are the field aliases) rather than
    pydantic-settings: the webhook path's cold start pays for every import. Keyword arguments
    override the environment.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=False)

    def __init__(self, **values: Any) -> None:
        aliases = {field.alias for field in type(self).model_fields.values() if field.alias}
        environment = {name: value for name, value in os.environ.items() if name in aliases and value != ""}
        super().__init__(**{**environment, **values})

    table_name: str = Field(default="mlops-bot", alias="MLOPS_BOT_TABLE_NAME")
    events_queue_url: str = Field(default="", alias="MLOPS_BOT_EVENTS_QUEUE_URL")
    healing_queue_url: str = Field(default="", alias="MLOPS_BOT_HEALING_QUEUE_URL")
    playbook_state_machines_json: str = Field(default="{}", alias="MLOPS_BOT_PLAYBOOK_STATE_MACHINES")
    environment: str = Field(default="local", alias="MLOPS_BOT_ENVIRONMENT")

    webhook_secret: str | None = Field(default=None, alias="GITHUB_WEBHOOK_SECRET")
    webhook_secret_name: str = Field(default="", alias="MLOPS_BOT_WEBHOOK_SECRET_NAME")
    github_credentials_secret_name: str = Field(default="", alias="MLOPS_BOT_GITHUB_SECRET_NAME")
    github_api_url: str = Field(default=DEFAULT_GITHUB_API_URL, alias="GITHUB_API_URL")
    github_timeout_seconds: float = Field(default=15.0, alias="MLOPS_BOT_GITHUB_TIMEOUT_SECONDS")
    github_token: str | None = Field(default=None, alias="GITHUB_TOKEN")
    github_app_id: str | None = Field(default=None, alias="GITHUB_APP_ID")
    github_app_private_key: str | None = Field(default=None, alias="GITHUB_APP_PRIVATE_KEY")
    dry_run_setting: bool | None = Field(default=None, alias="MLOPS_BOT_DRY_RUN")
    auto_enroll: bool = Field(default=False, alias="MLOPS_BOT_AUTO_ENROLL")
    bootstrap_api_key: str | None = Field(default=None, alias="MLOPS_BOT_BOOTSTRAP_API_KEY")

    # Webhook admission: GitHub's documented limit is 25 MB; the rate limit is per repository.
    max_webhook_bytes: int = Field(default=25 * 1024 * 1024, alias="MLOPS_BOT_MAX_WEBHOOK_BYTES")
    webhook_rate_limit: int = Field(default=100, alias="MLOPS_BOT_WEBHOOK_RATE_LIMIT")
    webhook_rate_window_seconds: int = Field(default=300, alias="MLOPS_BOT_WEBHOOK_RATE_WINDOW_SECONDS")
    # Healing budgets: every write is bounded (see mlops_bot.healing.budgets).
    max_writes_per_repository_per_day: int = Field(default=10, alias="MLOPS_BOT_MAX_WRITES_PER_REPO_PER_DAY")
    max_attempts_per_incident: int = Field(default=2, alias="MLOPS_BOT_MAX_ATTEMPTS_PER_INCIDENT")
    circuit_breaker_threshold: int = Field(default=3, alias="MLOPS_BOT_CIRCUIT_BREAKER_THRESHOLD")
    flaky_rerun_budget: int = Field(default=2, alias="MLOPS_BOT_FLAKY_RERUN_BUDGET")
    # How long a quarantined test must stay stable (no flaky pass, no failure) before its release.
    flake_window_days: int = Field(default=14, ge=1, alias="MLOPS_BOT_FLAKE_WINDOW_DAYS")
    # How long an incident may wait `verifying` for the run that proves its repair before the
    # scheduler's sweep hands it to a person (`awaiting_human`); a run that comes later still decides it.
    verification_deadline_hours: int = Field(default=24, ge=1, le=720, alias="MLOPS_BOT_VERIFICATION_DEADLINE_HOURS")
    protected_branch_patterns: str = Field(
        default="main,master,trunk,develop,release/*,production", alias="MLOPS_BOT_PROTECTED_BRANCHES"
    )
    notification_sender: str = Field(default="", alias="MLOPS_BOT_NOTIFICATION_SENDER")
    delivery_ttl_days: int = Field(default=7, alias="MLOPS_BOT_DELIVERY_TTL_DAYS")
    event_ttl_days: int = Field(default=90, alias="MLOPS_BOT_EVENT_TTL_DAYS")

    @property
    def playbook_state_machines(self) -> dict[str, str]:
        """Playbook name -> state machine ARN (the template passes them as one JSON object)."""
        try:
            found = json.loads(self.playbook_state_machines_json or "{}")
        except json.JSONDecodeError:
            return {}
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    @property
    def protected_branches(self) -> list[str]:
        return [p.strip() for p in self.protected_branch_patterns.split(",") if p.strip()]

    @property
    def has_github_credentials(self) -> bool:
        return bool(
            self.github_token
            or self.github_credentials_secret_name
            or (self.github_app_id and self.github_app_private_key)
        )

    @property
    def dry_run(self) -> bool:
        """Dry run unless told otherwise, and always when the bot has no way to write to GitHub."""
        if self.dry_run_setting is not None:
            return self.dry_run_setting
        return not self.has_github_credentials


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
