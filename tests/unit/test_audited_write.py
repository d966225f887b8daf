"""The audited write path (what the scheduled drift dispatch uses): budget first, then the write, then its record."""

from __future__ import annotations

import pytest

from mlops_bot.config import Settings
from mlops_bot.healing.audit import AuditRecord, audited_write
from mlops_bot.stores.audit import InMemoryAuditLog
from mlops_bot.stores.budgets import InMemoryRepairBudgetStore

TENANT, REPO = "default", "acme/churn"


def dispatch(dry_run: bool = False) -> AuditRecord:
    return AuditRecord(
        tenant_id=TENANT,
        repository=REPO,
        method="POST",
        path=f"/repos/{REPO}/actions/workflows/drift-check.yml/dispatches",
        summary="dispatch drift check",
        rule="drift:scheduled_check",
        dry_run=dry_run,
        result="done",
    )


class Writes:
    def __init__(self) -> None:
        self.made = 0

    def __call__(self) -> None:
        self.made += 1


def test_a_dry_run_is_recorded_as_planned_and_spends_no_budget() -> None:
    log, budget, write = InMemoryAuditLog(), InMemoryRepairBudgetStore(), Writes()
    assert audited_write(log, budget, Settings(), dispatch(dry_run=True), write, write_id="check-1") == "planned"
    assert write.made == 0 and sum(budget.writes.values()) == 0
    assert [r.result for r in log.records] == ["planned"]


def test_a_write_beyond_the_days_budget_is_refused_and_recorded() -> None:
    log, budget, write = InMemoryAuditLog(), InMemoryRepairBudgetStore(), Writes()
    settings = Settings(MLOPS_BOT_MAX_WRITES_PER_REPO_PER_DAY=1)  # type: ignore[call-arg]
    assert audited_write(log, budget, settings, dispatch(), write, write_id="check-1") == "done"
    assert audited_write(log, budget, settings, dispatch(), write, write_id="check-2").startswith("refused")
    assert write.made == 1
    assert [(r.result, r.rule) for r in log.records] == [("done", "drift:scheduled_check"), ("refused", "write_budget")]


def test_a_retried_check_writes_once_spends_the_budget_once_and_is_audited_once() -> None:
    log, budget, write = InMemoryAuditLog(), InMemoryRepairBudgetStore(), Writes()
    for _ in range(2):
        assert audited_write(log, budget, Settings(), dispatch(), write, write_id="check-1") == "done"
    assert write.made == 1 and sum(budget.writes.values()) == 1 and len(log.records) == 1


def test_a_failed_write_is_audited_with_its_error_and_raised() -> None:
    log, budget = InMemoryAuditLog(), InMemoryRepairBudgetStore()

    def refused_by_github() -> None:
        raise ConnectionError("GitHub unreachable")

    with pytest.raises(ConnectionError):
        audited_write(log, budget, Settings(), dispatch(), refused_by_github, write_id="check-1")
    assert [r.result for r in log.records] == ["error: ConnectionError"]
