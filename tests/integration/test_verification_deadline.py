"""The verification deadline through the scheduler's hourly sweep (moto, the stand-in GitHub): a fix pull
request whose proving run never comes is handed to a person after `MLOPS_BOT_VERIFICATION_DEADLINE_HOURS`,
with the incident that follows its repair; a green run that comes later still resolves both.

The rules on in-memory stores: tests/unit/test_verification_deadline.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.detection.incidents import Incident, incident_item
from mlops_bot.diagnosis import Problem
from mlops_bot.healing.verification import VerificationDependencies, verify
from mlops_bot.messages import RepositoryEvent, WorkflowRun
from mlops_bot.storage import keys
from mlops_bot.stores.incidents import DynamoIncidentStore, Verification
from mlops_bot.stores.repair_claims import DynamoRepairClaimStore
from tests.integration.conftest import lambda_context, load_handler
from tests.integration.test_one_repair import MISSING_SKLEARN, REPO, github, heal, incident, pypi, table
from tests.support.github_standin import GitHubStandIn

__all__ = ["github", "pypi", "table"]  # the fixtures this module borrows


def sweep() -> dict[str, Any]:
    answer: dict[str, Any] = load_handler("scheduler").handler({"source": "aws.scheduler"}, lambda_context("scheduler"))
    return answer


def add_incident(table: StateTable, incident_id: str, run_id: int, detected_at: str) -> None:
    """What the detector stores for a failed run whose log says `No module named 'sklearn'`."""
    table.put(
        incident_item(
            Incident(
                id=incident_id,
                tenant_id="default",
                repository=REPO,
                type="pipeline_failure",
                severity="high",
                description="CI failed",
                detected_at=detected_at,
                metadata={"run_id": run_id, "installation_id": 1, "workflow_name": "CI"},
                diagnosis=MISSING_SKLEARN,
            )
        )
    )


def fix_pull_request_waiting(table: StateTable, github: GitHubStandIn, *, hours: float) -> str:
    """inc-1 opened the fix pull request and has waited `hours` for its run; inc-2 follows its repair."""
    since = iso(utc_now() - timedelta(hours=hours))
    detected = iso(utc_now() - timedelta(hours=hours, minutes=10))
    add_incident(table, "inc-1", 301, detected)
    add_incident(table, "inc-2", 302, detected)
    first = heal(table, github, "inc-1")
    assert first.execution["verify"] is True
    assert heal(table, github, "inc-2").execution["status"] == "linked"
    branch = str(first.execution["branch"])
    waiting = Verification(task_token="token-inc-1", branch=branch, since=since, attempt=1)
    assert DynamoIncidentStore(table).await_verification("default", "inc-1", waiting)
    return since


def hand_overs(table: StateTable, incident_id: str) -> list[dict[str, Any]]:
    """The audit records of the incident's hand-over to a person."""
    audited = table.query(keys.audit_pk("default"), "AUDIT#")
    return [a for a in audited if a.get("incident_id") == incident_id and a.get("rule") == "verification_deadline"]


def test_a_proving_run_that_never_comes_hands_the_incident_and_its_follower_to_a_person(
    table: StateTable, github: GitHubStandIn
) -> None:
    since = fix_pull_request_waiting(table, github, hours=25)
    assert sweep()["verifications_overdue"] == ["inc-1"]
    holder = incident(table, "inc-1")
    assert holder["status"] == "awaiting_human"
    said = holder["timeline"][-1]
    assert said["event"] == "verification_overdue"
    assert "mlops-bot/inc-1" in said["details"] and since in said["details"]
    assert incident(table, "inc-2")["status"] == "awaiting_human"
    [record] = hand_overs(table, "inc-1")
    assert record["rule"] == "verification_deadline" and record["result"] == "awaiting_human"
    assert record["details"]["since"] == since
    assert sweep()["verifications_overdue"] == []  # handed over once

    # The run comes after all; the playbook stopped waiting long ago (Step Functions: TaskTimedOut).
    class TimedOut:
        def complete_task(self, task_token: str, output: dict[str, Any]) -> bool:
            return False

    def diagnose(repository: str, run_id: int, installation_id: int | None) -> Problem:
        raise AssertionError("a green run needs no diagnosis")

    deps = VerificationDependencies(
        Settings(), TimedOut(), diagnose, DynamoIncidentStore(table), repair_claims=DynamoRepairClaimStore(table)
    )
    run = WorkflowRun(id=777, conclusion="success", head_branch="mlops-bot/inc-1")
    event = RepositoryEvent(
        tenant_id="default",
        delivery_id="d-777",
        execution_id="e-777",
        event="workflow_run",
        action="completed",
        received_at=iso(utc_now()),
        repository=REPO,
        workflow_run=run,
    )
    assert verify(deps, event)
    assert incident(table, "inc-1")["status"] == "resolved"
    assert incident(table, "inc-2")["status"] == "resolved"


def test_before_the_deadline_the_sweep_leaves_the_wait_alone(
    table: StateTable, github: GitHubStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    fix_pull_request_waiting(table, github, hours=25)
    monkeypatch.setenv("MLOPS_BOT_VERIFICATION_DEADLINE_HOURS", "48")  # the deployment's deadline is read
    assert sweep()["verifications_overdue"] == []
    assert incident(table, "inc-1")["status"] == "verifying"
    assert incident(table, "inc-2")["status"] == "linked"
    assert hand_overs(table, "inc-1") == []
