"""Bounds on what the bot may do to a repository: daily write budget, attempts, circuit breaker.

- At most `max_writes_per_repository_per_day` writes per repository per UTC day (atomic counter,
  a write counted once per write id so a retried step does not spend it twice).
- At most `max_attempts_per_incident` healing rounds per incident.
- After `circuit_breaker_threshold` failed healings in a row the repository is paused (status
  `paused`) until a person resumes it; a success resets the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from mlops_bot.clock import utc_now
from mlops_bot.config import Settings
from mlops_bot.stores.budgets import RepairBudgetStore


@dataclass(frozen=True)
class Refusal:
    rule: str
    reason: str


def circuit_open(budget: RepairBudgetStore, tenant_id: str, repository: str) -> Refusal | None:
    if budget.paused(tenant_id, repository):
        return Refusal("circuit_breaker", f"{repository} is paused after repeated failed healings")
    return None


def auto_fix_disabled(budget: RepairBudgetStore, tenant_id: str, repository: str) -> bool:
    return budget.auto_fix_disabled(tenant_id, repository)


def take_write(
    budget: RepairBudgetStore, settings: Settings, tenant_id: str, repository: str, write_id: str | None = None
) -> Refusal | None:
    """Count one write against today's budget; a refusal when the budget is spent."""
    now = utc_now()
    day = now.strftime("%Y-%m-%d")
    used = budget.take_write(tenant_id, repository, day, write_id=write_id, expires=now + timedelta(days=2))
    if used > settings.max_writes_per_repository_per_day:
        return Refusal(
            "write_budget",
            f"{repository} used its {settings.max_writes_per_repository_per_day} automatic writes for {day}",
        )
    return None


def record_outcome(
    budget: RepairBudgetStore, settings: Settings, tenant_id: str, repository: str, healed: bool
) -> bool:
    """Update the breaker; True when this outcome opened it (the repository is now paused)."""
    if healed:
        budget.record_success(tenant_id, repository)
        return False
    return budget.record_failure(tenant_id, repository, pause_at=settings.circuit_breaker_threshold)
