"""Multi-write paths on DynamoDB (moto): a crash between two writes, then the retry, does the work once.

The crash is injected at the store layer (the call raises, as a Lambda killed there would stop);
the retry is what Step Functions (a step's retry) or SQS (a redelivery) or the scheduler does next.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.github import GitHubClient
from mlops_bot.clock import iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.healing.actions import ActionDependencies, PlaybookState, execute, plan
from mlops_bot.storage import keys
from mlops_bot.stores.budgets import DynamoRepairBudgetStore
from mlops_bot.stores.incidents import DynamoIncidentStore, HealingRequestState, Incident
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from tests.integration.conftest import lambda_context, load_handler
from tests.support.aws import MockState
from tests.support.github_standin import GitHubStandIn
from tests.support.memory import Crash, crash_after, fail_once
from tests.support.stores import action_dependencies

REPO = "acme/durable"


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=("t",)) as standin:
        standin.add_repo(REPO, files={"requirements.txt": "numpy==1.26.4\n"})
        yield standin


@pytest.fixture
def table(aws: MockState) -> StateTable:
    state = StateTable(aws.table_name)
    enroll_repository(DynamoRepositoryStore(state), "default", REPO, source="test")
    return state


def add_incident(table: StateTable, **changes: Any) -> Incident:
    incident = Incident(
        id="inc-1",
        tenant_id="default",
        repository=REPO,
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at=iso(utc_now()),
        metadata={"run_id": 77},
        diagnosis={"category": "unknown", "kind": "k", "details": {}},
    ).model_copy(update=changes)
    DynamoIncidentStore(table).open_or_update(incident)
    return incident


def planned(table: StateTable, github: GitHubStandIn) -> tuple[ActionDependencies, PlaybookState]:
    settings = Settings(MLOPS_BOT_TABLE_NAME=table.name)  # type: ignore[call-arg]
    deps = action_dependencies(
        settings, table, lambda repository, installation: GitHubClient.from_token("t", github.url)
    )
    state = PlaybookState(tenant_id="default", incident_id="inc-1", dry_run=False)
    state.planned = {"value": plan(deps, state)}
    return deps, state


def work_done(table: StateTable, github: GitHubStandIn) -> dict[str, int]:
    incident = table.get(keys.incident_key("default", "inc-1")) or {}
    repo = table.get(keys.repository_key("default", REPO)) or {}
    budget = table.get(keys.write_budget_key("default", REPO, utc_now().strftime("%Y-%m-%d"))) or {}
    return {
        "issues_opened": len(github.calls_to("POST", rf"/repos/{REPO}/issues$")),
        "audit_records": len(table.query(keys.audit_pk("default"), "AUDIT#")),
        "actions_taken": len(incident.get("actions_taken", [])),
        "repairs_attempted": int(repo.get("repairs_attempted", 0)),
        "writes_budgeted": int(budget.get("writes", 0)),
    }


ONCE = {"issues_opened": 1, "audit_records": 1, "actions_taken": 1, "repairs_attempted": 1, "writes_budgeted": 1}


def test_execute_killed_after_acting_before_the_incident_heard_records_it_once_on_retry(
    table: StateTable, github: GitHubStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_incident(table)
    deps, state = planned(table, github)
    monkeypatch.setattr(DynamoIncidentStore, "record_action", DynamoIncidentStore.record_action)
    fail_once(DynamoIncidentStore, "record_action")
    with pytest.raises(Crash):
        execute(deps, state)
    outcome = execute(deps, state)
    assert outcome["status"] == "escalated"
    assert work_done(table, github) == ONCE
    incident = table.get(keys.incident_key("default", "inc-1"))
    assert incident is not None and incident["status"] == "escalated"


def test_execute_killed_after_the_incident_heard_before_the_log_knew_it_counts_nothing_twice(
    table: StateTable, github: GitHubStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_incident(table)
    deps, state = planned(table, github)
    monkeypatch.setattr(DynamoIncidentStore, "record_action", DynamoIncidentStore.record_action)
    crash_after(DynamoIncidentStore, "record_action")
    with pytest.raises(Crash):
        execute(deps, state)
    execute(deps, state)
    execute(deps, state)
    assert work_done(table, github) == ONCE


def test_execute_killed_while_spending_the_budget_spends_it_once(
    table: StateTable, github: GitHubStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_incident(table)
    deps, state = planned(table, github)
    monkeypatch.setattr(DynamoRepairBudgetStore, "take_write", DynamoRepairBudgetStore.take_write)
    crash_after(DynamoRepairBudgetStore, "take_write")
    with pytest.raises(Crash):
        execute(deps, state)
    execute(deps, state)
    assert work_done(table, github) == ONCE


def test_the_scheduler_sends_a_healing_request_a_crashed_detector_left_pending_exactly_once(
    table: StateTable, aws: MockState
) -> None:
    add_incident(table, detected_at=iso(utc_now() - timedelta(hours=1)), healing_request=HealingRequestState.PENDING)
    add_incident(table, id="inc-fresh", healing_request=HealingRequestState.PENDING)  # a detector still at work
    scheduler = load_handler("scheduler")
    first = scheduler.handler({"source": "aws.scheduler"}, lambda_context("scheduler"))
    second = scheduler.handler({"source": "aws.scheduler"}, lambda_context("scheduler"))
    assert (first["healing_requested"], second["healing_requested"]) == (["inc-1"], [])
    [request] = aws.messages("HealingQueue")
    assert request["incident_id"] == "inc-1" and request["reason"] == "sweep" and request["request_id"] == "detected"
    incident = DynamoIncidentStore(table).get("default", "inc-1")
    assert incident is not None and incident.healing_request == HealingRequestState.REQUESTED
