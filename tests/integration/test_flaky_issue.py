"""flaky_test_response ends with one issue per repository listing flaky tests and their flake rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.github import GitHubClient
from mlops_bot.detection import flaky
from mlops_bot.healing.planner import RepairPlan
from mlops_bot.healing.repairs import RepairSession, open_issue
from mlops_bot.stores.audit import DynamoAuditLog
from mlops_bot.stores.flaky_history import DynamoFlakyHistory
from mlops_bot.stores.incidents import Incident, IncidentType, Severity
from tests.support.aws import MockState
from tests.support.github_standin import GitHubStandIn

REPO = "acme/flaky"


def seed_history(table: StateTable) -> None:
    now = datetime.now(UTC)
    for n, sha in enumerate(["a1" * 20, "b2" * 20, "c3" * 20]):
        at = now - timedelta(hours=10 - n)
        flaky.record_run(
            DynamoFlakyHistory(table),
            "default",
            REPO,
            workflow="CI",
            run_id=100 + n,
            run_attempt=1,
            head_sha=sha,
            conclusion="failure",
            failed_tests=["tests/test_io.py::test_download"],
            failed_jobs=["CI"],
            at=at,
        )
        flaky.record_run(
            DynamoFlakyHistory(table),
            "default",
            REPO,
            workflow="CI",
            run_id=100 + n,
            run_attempt=2,
            head_sha=sha,
            conclusion="success",
            failed_tests=[],
            failed_jobs=[],
            at=at + timedelta(minutes=5),
        )
    flaky.record_run(
        DynamoFlakyHistory(table),
        "default",
        REPO,
        workflow="CI",
        run_id=200,
        run_attempt=1,
        head_sha="d4" * 20,
        conclusion="success",
        failed_tests=[],
        failed_jobs=[],
        at=now - timedelta(hours=1),
    )


def session(table: StateTable, client: GitHubClient, incident_id: str) -> RepairSession:
    incident = Incident(
        id=incident_id,
        tenant_id="default",
        repository=REPO,
        type=IncidentType.PIPELINE_FAILURE,
        severity=Severity.MEDIUM,
        description="CI failed",
        detected_at="2026-11-27T10:00:00.000000Z",
        metadata={"run_id": 1},
        diagnosis={
            "category": "test_failure",
            "kind": "pytest-assertion",
            "details": {"tests": ["tests/test_io.py::test_download"]},
        },
    )
    plan = RepairPlan(action="open_issue", rule="flaky:budget_spent", reason="re-run 2 times; tests stay flaky")
    return RepairSession(
        audit_log=DynamoAuditLog(table),
        client=client,
        dry_run=False,
        tenant_id="default",
        incident=incident,
        playbook="flaky_test_response",
        plan=plan,
        flaky_history=DynamoFlakyHistory(table),
    )


def test_one_issue_lists_the_flaky_tests_and_later_incidents_update_it(aws: MockState) -> None:
    table = StateTable(aws.table_name)
    seed_history(table)
    with GitHubStandIn(tokens=("t",)) as github:
        github.add_repo(REPO)
        client = GitHubClient.from_token("t", github.url)
        first = open_issue(session(table, client, "inc-a"))
        second = open_issue(session(table, client, "inc-b"))
        [created] = github.calls_to("POST", rf"^/repos/{REPO}/issues$")
        assert created.json["title"] == f"[mlops-bot] Flaky tests in {REPO}"
        assert "| `tests/test_io.py::test_download` | 75% | 3 / 4 |" in created.json["body"]
        assert len(github.calls_to("POST", rf"^/repos/{REPO}/issues/\d+/comments$")) == 1
        assert first.issue is not None and second.issue is not None
        assert first.issue["number"] == second.issue["number"]
