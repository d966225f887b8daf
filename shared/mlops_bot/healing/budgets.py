"""Bounds on what the bot may do to a repository: daily write budget, attempts, circuit breaker.

- At most `max_writes_per_repository_per_day` writes per repository per UTC day (atomic counter).
- At most `max_attempts_per_incident` healing rounds per incident.
- After `circuit_breaker_threshold` failed healings in a row the repository is paused (status
  `paused`) until a person resumes it; a success resets the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.storage import keys


@dataclass(frozen=True)
class Refusal:
    rule: str
    reason: str


def circuit_open(table: StateTable, tenant_id: str, repository: str) -> Refusal | None:
    repo = table.get(keys.repository_key(tenant_id, repository))
    if repo and repo.get("status") == "paused":
        return Refusal("circuit_breaker", f"{repository} is paused after repeated failed healings")
    return None


def auto_fix_disabled(table: StateTable, tenant_id: str, repository: str) -> bool:
    repo = table.get(keys.repository_key(tenant_id, repository)) or {}
    return (repo.get("configuration") or {}).get("auto_fix_enabled") is False


def take_write(table: StateTable, settings: Settings, tenant_id: str, repository: str) -> Refusal | None:
    """Count one write against today's budget; a refusal when the budget is spent."""
    now = utc_now()
    day = now.strftime("%Y-%m-%d")
    key = keys.write_budget_key(tenant_id, repository, day)
    used = table.increment(key, "writes", expires_at=epoch_seconds(now + timedelta(days=2)))
    if used > settings.max_writes_per_repository_per_day:
        return Refusal(
            "write_budget",
            f"{repository} used its {settings.max_writes_per_repository_per_day} automatic writes for {day}",
        )
    return None


def record_outcome(table: StateTable, settings: Settings, tenant_id: str, repository: str, healed: bool) -> bool:
    """Update the breaker; True when this outcome opened it (the repository is now paused)."""
    key = keys.repository_key(tenant_id, repository)
    if healed:
        table.set_fields(key, {"consecutive_failed_healings": 0}, increments={"repairs_successful": 1}, if_exists=True)
        return False
    item = table.set_fields(key, {}, increments={"consecutive_failed_healings": 1, "repairs_failed": 1}, if_exists=True)
    failures = int((item or {}).get("consecutive_failed_healings", 0))
    if failures >= settings.circuit_breaker_threshold:
        table.set_fields(
            key, {"status": "paused", "paused_at": iso(utc_now()), "paused_reason": "circuit_breaker"}, if_exists=True
        )
        return True
    return False
