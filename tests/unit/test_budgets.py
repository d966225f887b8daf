"""The never-harm bounds on the in-memory store: the daily write budget and the circuit breaker."""

from __future__ import annotations

from mlops_bot.config import Settings
from mlops_bot.healing import budgets
from mlops_bot.stores.budgets import InMemoryRepairBudgetStore

TENANT, REPO = "default", "acme/guarded"


def test_the_daily_write_budget_refuses_the_write_beyond_the_limit() -> None:
    store, settings = InMemoryRepairBudgetStore(), Settings(MLOPS_BOT_MAX_WRITES_PER_REPO_PER_DAY=2)  # type: ignore[call-arg]
    assert budgets.take_write(store, settings, TENANT, REPO, write_id="a") is None
    assert budgets.take_write(store, settings, TENANT, REPO, write_id="b") is None
    refusal = budgets.take_write(store, settings, TENANT, REPO, write_id="c")
    assert refusal is not None and refusal.rule == "write_budget"


def test_a_retried_write_spends_the_budget_once() -> None:
    store, settings = InMemoryRepairBudgetStore(), Settings(MLOPS_BOT_MAX_WRITES_PER_REPO_PER_DAY=1)  # type: ignore[call-arg]
    for _ in range(3):
        assert budgets.take_write(store, settings, TENANT, REPO, write_id="inc-1/1-open_fix_pr") is None
    assert budgets.take_write(store, settings, TENANT, REPO, write_id="inc-2/1-open_fix_pr") is not None


def test_the_breaker_pauses_at_the_threshold_once_and_a_success_resets_the_count() -> None:
    store, settings = InMemoryRepairBudgetStore(), Settings(MLOPS_BOT_CIRCUIT_BREAKER_THRESHOLD=2)  # type: ignore[call-arg]
    assert budgets.record_outcome(store, settings, TENANT, REPO, healed=False) is False
    assert budgets.record_outcome(store, settings, TENANT, REPO, healed=True) is False
    assert budgets.record_outcome(store, settings, TENANT, REPO, healed=False) is False
    assert budgets.circuit_open(store, TENANT, REPO) is None
    assert budgets.record_outcome(store, settings, TENANT, REPO, healed=False) is True
    refusal = budgets.circuit_open(store, TENANT, REPO)
    assert refusal is not None and refusal.rule == "circuit_breaker"
    assert budgets.record_outcome(store, settings, TENANT, REPO, healed=False) is False  # already paused
