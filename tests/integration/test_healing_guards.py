"""The never-harm rules: budgets, the circuit breaker, dry run, idempotent steps (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.config import Settings
from mlops_bot.detection.incidents import Incident, incident_item
from mlops_bot.healing import budgets
from mlops_bot.healing.actions import ActionDependencies, PlaybookState, execute, mark_failed, plan
from mlops_bot.storage import keys
from mlops_bot.stores.budgets import DynamoRepairBudgetStore
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from tests.support.aws import MockState
from tests.support.stores import action_dependencies

REPO = "acme/guarded"


@pytest.fixture
def table(aws: MockState) -> StateTable:
    state = StateTable(aws.table_name)
    enroll_repository(DynamoRepositoryStore(state), "default", REPO, source="test")
    return state


def add_incident(table: StateTable, incident_id: str = "inc-1", category: str = "unknown") -> None:
    incident = Incident(
        id=incident_id,
        tenant_id="default",
        repository=REPO,
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at="2026-11-25T10:00:00.000000Z",
        metadata={"run_id": 77},
        diagnosis={"category": category, "kind": "k", "details": {}},
    )
    table.put(incident_item(incident))


class NoGitHub:
    """Counts requests for a client; the guards must decide before any is needed."""

    def __init__(self) -> None:
        self.asked = 0

    def __call__(self, repository: str, installation: int | None) -> Any:
        self.asked += 1
        return None


def deps(table: StateTable, **settings: Any) -> ActionDependencies:
    return action_dependencies(Settings(MLOPS_BOT_TABLE_NAME=table.name, **settings), table, NoGitHub())  # type: ignore[call-arg]


def test_daily_write_budget_refuses_beyond_the_limit(table: StateTable) -> None:
    settings = Settings(MLOPS_BOT_MAX_WRITES_PER_REPO_PER_DAY=2)  # type: ignore[call-arg]
    store = DynamoRepairBudgetStore(table)
    assert budgets.take_write(store, settings, "default", REPO) is None
    assert budgets.take_write(store, settings, "default", REPO) is None
    refusal = budgets.take_write(store, settings, "default", REPO)
    assert refusal is not None and refusal.rule == "write_budget"
    assert budgets.take_write(store, settings, "default", "acme/other") is None


def test_the_circuit_breaker_pauses_after_consecutive_failures_and_a_success_resets(table: StateTable) -> None:
    settings = Settings(MLOPS_BOT_CIRCUIT_BREAKER_THRESHOLD=2)  # type: ignore[call-arg]
    store = DynamoRepairBudgetStore(table)
    assert not budgets.record_outcome(store, settings, "default", REPO, healed=False)
    assert not budgets.record_outcome(store, settings, "default", REPO, healed=True)
    assert not budgets.record_outcome(store, settings, "default", REPO, healed=False)
    assert budgets.record_outcome(store, settings, "default", REPO, healed=False)
    assert budgets.circuit_open(store, "default", REPO) is not None
    add_incident(table)
    planned = plan(deps(table), PlaybookState(tenant_id="default", incident_id="inc-1"))
    assert (planned["action"], planned["rule"]) == ("none", "circuit_breaker")


def test_attempts_per_incident_are_bounded(table: StateTable) -> None:
    add_incident(table)
    d = deps(table, MLOPS_BOT_MAX_ATTEMPTS_PER_INCIDENT=1)
    state = PlaybookState(tenant_id="default", incident_id="inc-1")
    assert plan(d, state)["action"] == "open_issue"
    assert plan(d, state)["rule"] == "attempt_budget"


def test_disabled_playbook_and_auto_fix_off(table: StateTable) -> None:
    add_incident(table)
    table.put({"pk": keys.tenant_pk("default"), "sk": "PLAYBOOK#pipeline_failure_fix", "enabled": False})
    state = PlaybookState(tenant_id="default", incident_id="inc-1", dry_run=False)
    assert plan(deps(table), state)["rule"] == "playbook_disabled"
    table.delete({"pk": keys.tenant_pk("default"), "sk": "PLAYBOOK#pipeline_failure_fix"})
    table.set_fields(keys.repository_key("default", REPO), {"configuration": {"auto_fix_enabled": False}})
    assert plan(deps(table), state)["dry_run"] is True


def test_dry_run_records_the_exact_plan_and_writes_nothing(table: StateTable) -> None:
    add_incident(table)
    d = deps(table)
    state = PlaybookState(tenant_id="default", incident_id="inc-1", dry_run=True)
    state.planned = {"value": plan(d, state)}
    outcome = execute(d, state)
    assert outcome["status"] == "planned"
    assert outcome["planned_calls"] == [
        {
            "method": "POST",
            "path": f"/repos/{REPO}/issues",
            "summary": outcome["planned_calls"][0]["summary"],
            "details": {"labels": ["mlops-bot"]},
        }
    ]
    [record] = table.query(keys.audit_pk("default"), "AUDIT#")
    assert record["dry_run"] is True and record["result"] == "planned" and record["rule"] == "unknown:escalate"


def test_a_retried_execute_step_does_not_act_twice(table: StateTable) -> None:
    add_incident(table)
    d = deps(table)
    state = PlaybookState(tenant_id="default", incident_id="inc-1", dry_run=True)
    state.planned = {"value": plan(d, state)}
    first = execute(d, state)
    again = execute(d, state)
    assert again == {k: v for k, v in first.items() if v is not None}
    assert len(table.query(keys.audit_pk("default"), "AUDIT#")) == 1


def test_a_failed_healing_is_recorded_and_counts_toward_the_breaker(table: StateTable) -> None:
    add_incident(table)
    result = mark_failed(
        deps(table),
        PlaybookState(tenant_id="default", incident_id="inc-1", error={"Error": "GitHubError", "Cause": "502"}),
    )
    assert result["status"] == "failed"
    incident = table.get(keys.incident_key("default", "inc-1"))
    assert incident is not None and incident["timeline"][-1] == {
        **incident["timeline"][-1],
        "event": "issue_failed",
        "details": "502",
    }
    repo = table.get(keys.repository_key("default", REPO))
    assert repo is not None and repo["consecutive_failed_healings"] == 1


def test_a_suspended_installation_gets_no_write_and_the_incident_says_why(table: StateTable) -> None:
    from mlops_bot.stores.installations import DynamoInstallationStore, InstallationItem, InstallationStatus

    DynamoInstallationStore(table).save(
        InstallationItem(
            installation_id=31,
            status=InstallationStatus.SUSPENDED,
            status_reason="The installation was suspended by dana",
            created_at="2026-11-25T09:00:00Z",
            updated_at="2026-11-25T09:30:00Z",
        )
    )
    add_incident(table)
    table.set_fields(keys.incident_key("default", "inc-1"), {"metadata": {"run_id": 77, "installation_id": 31}})
    github = NoGitHub()
    d = action_dependencies(Settings(MLOPS_BOT_TABLE_NAME=table.name), table, github)  # type: ignore[call-arg]
    state = PlaybookState(tenant_id="default", incident_id="inc-1", dry_run=False)
    state.planned = {"value": plan(d, state)}
    asked_while_planning = github.asked  # reading the repository's configuration file
    outcome = execute(d, state)
    assert (outcome["status"], outcome["rule"]) == ("refused", "installation_inactive")
    assert github.asked == asked_while_planning  # no client for a write was even asked for
    incident = table.get(keys.incident_key("default", "inc-1")) or {}
    assert incident["status"] == "awaiting_human"
    assert "suspended by dana" in incident["actions_taken"][-1]["details"]["reason"]
