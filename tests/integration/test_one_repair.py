"""One repair per problem, across runs: the playbook steps against moto and the stand-in GitHub.

The same missing module failing two runs (the next push before the fix is merged, two workflows
of one commit, a scheduled run) is one problem: the first incident opens the pull request, every
later one links to it. A maintainer who closed the bot's pull request unmerged rejected that fix:
the bot does not propose it again, it says so in one issue. A fix that was merged and did not help
is an issue too, never a second identical pull request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.github import GitHubClient
from mlops_bot.config import Settings
from mlops_bot.detection.incidents import Incident, incident_item
from mlops_bot.diagnosis import diagnose_path
from mlops_bot.healing.actions import ActionDependencies, PlaybookState, execute, mark_failed, mark_resolved, plan
from mlops_bot.storage import keys
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from tests.support.aws import MockState
from tests.support.github_standin import GitHubStandIn
from tests.support.pypi_standin import PyPIStandIn
from tests.support.stores import action_dependencies

REPO = "acme/recommender"
TOKEN = "ghs_one-repair"
LOGS = Path(__file__).resolve().parents[1] / "data" / "logs"
REQUIREMENTS = "pandas\n"  # unpinned: the fix adds the package as it is


@pytest.fixture
def table(aws: MockState) -> StateTable:
    state = StateTable(aws.table_name)
    enroll_repository(DynamoRepositoryStore(state), "default", REPO, source="test")
    return state


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=(TOKEN,)) as standin:
        standin.add_repo(REPO, files={"requirements.txt": REQUIREMENTS})
        yield standin


@pytest.fixture(autouse=True)
def pypi(monkeypatch: pytest.MonkeyPatch) -> Iterator[PyPIStandIn]:
    with PyPIStandIn() as standin:
        monkeypatch.setenv("MLOPS_BOT_PYPI_URL", standin.url)
        yield standin


MISSING_SKLEARN = diagnose_path(LOGS / "py_missing_module_sklearn.log").model_dump(mode="json")


def add_incident(table: StateTable, incident_id: str, run_id: int) -> None:
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
                detected_at=f"2026-11-27T10:00:{run_id % 60:02d}.000000Z",
                metadata={"run_id": run_id, "installation_id": 1, "workflow_name": "CI"},
                diagnosis=MISSING_SKLEARN,
            )
        )
    )


def dependencies(table: StateTable, github: GitHubStandIn) -> ActionDependencies:
    return action_dependencies(
        Settings(MLOPS_BOT_TABLE_NAME=table.name),  # type: ignore[call-arg]
        table,
        lambda repository, installation: GitHubClient.from_token(TOKEN, github.url),
    )


def heal(table: StateTable, github: GitHubStandIn, incident_id: str, *, dry_run: bool = False) -> PlaybookState:
    deps = dependencies(table, github)
    state = PlaybookState(tenant_id="default", incident_id=incident_id, dry_run=dry_run)
    state.planned = {"value": plan(deps, state)}
    state.executed = {"value": execute(deps, state)}
    return state


def incident(table: StateTable, incident_id: str) -> dict[str, Any]:
    found = table.get(keys.incident_key("default", incident_id))
    assert found is not None
    return found


def only(numbered: dict[int, Any]) -> int:
    [number] = numbered
    return number


def pulls_opened(github: GitHubStandIn) -> list[Any]:
    return [c for c in github.calls_to("POST", rf"^/repos/{REPO}/pulls$") if c.status == 201]


def test_a_second_run_failing_the_same_way_links_to_the_first_pull_request(
    table: StateTable, github: GitHubStandIn
) -> None:
    add_incident(table, "inc-1", 101)
    add_incident(table, "inc-2", 102)
    first = heal(table, github, "inc-1")
    assert first.execution["status"] == "done"
    [opened] = pulls_opened(github)

    second = heal(table, github, "inc-2")
    assert pulls_opened(github) == [opened]  # no second pull request
    assert github.branch_sha(REPO, "mlops-bot/inc-2") is None  # and no second branch
    assert second.execution["status"] == "linked"
    assert second.execution["verify"] is False
    linked = incident(table, "inc-2")
    assert linked["status"] == "linked"
    said = " ".join(t.get("details") or "" for t in linked["timeline"])
    assert "inc-1" in said and "#1" in said
    holder = incident(table, "inc-1")
    assert holder["occurrences"] == 2  # the first incident counts the recurrence
    assert "inc-2" in holder["timeline"][-1]["details"]
    # one repair attempted for the problem, not two
    assert (table.get(keys.repository_key("default", REPO)) or {}).get("repairs_attempted") == 1
    # the decision not to write is audited like a write
    audit = [a for a in table.query(keys.audit_pk("default"), "AUDIT#") if a["incident_id"] == "inc-2"]
    assert [a["result"] for a in audit] == ["skipped: same problem as incident inc-1, pull request #1"]


def test_whoever_sees_an_incident_linked_also_sees_which_incident_it_follows(
    table: StateTable, github: GitHubStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_incident(table, "inc-1", 101)
    add_incident(table, "inc-2", 102)
    heal(table, github, "inc-1")
    deps = dependencies(table, github)
    timeline_when_status_changed: list[list[str]] = []
    record_action = deps.incidents.record_action

    def recording(*args: Any, **kwargs: Any) -> Any:
        timeline_when_status_changed.append([t["event"] for t in incident(table, "inc-2")["timeline"]])
        return record_action(*args, **kwargs)

    monkeypatch.setattr(deps.incidents, "record_action", recording)
    state = PlaybookState(tenant_id="default", incident_id="inc-2", dry_run=False)
    state.planned = {"value": plan(deps, state)}
    execute(deps, state)
    assert incident(table, "inc-2")["status"] == "linked"
    assert "same_problem" in timeline_when_status_changed[-1]


def test_the_linked_incident_follows_the_first_repairs_verdict(table: StateTable, github: GitHubStandIn) -> None:
    for incident_id, run_id in (("inc-1", 111), ("inc-2", 112), ("inc-3", 113)):
        add_incident(table, incident_id, run_id)
    first = heal(table, github, "inc-1")
    heal(table, github, "inc-2")
    first.verification = {"conclusion": "success", "details": "run 120 passed on mlops-bot/inc-1"}
    mark_resolved(dependencies(table, github), first)
    assert incident(table, "inc-1")["status"] == "resolved"
    resolved = incident(table, "inc-2")
    assert resolved["status"] == "resolved"
    assert "inc-1" in resolved["timeline"][-1]["details"]
    # a failure linked after the first incident closed follows it at once
    assert heal(table, github, "inc-3").execution["status"] == "linked"
    assert incident(table, "inc-3")["status"] == "resolved"
    assert len(pulls_opened(github)) == 1


def test_a_failed_first_repair_fails_its_linked_incidents_too(table: StateTable, github: GitHubStandIn) -> None:
    add_incident(table, "inc-1", 121)
    add_incident(table, "inc-2", 122)
    first = heal(table, github, "inc-1")
    heal(table, github, "inc-2")
    first.verification = {"conclusion": "failure", "details": "the same problem persists"}
    mark_failed(dependencies(table, github), first)
    assert incident(table, "inc-2")["status"] == "failed"


def test_a_pull_request_closed_unmerged_is_never_proposed_again_and_one_issue_says_so(
    table: StateTable, github: GitHubStandIn
) -> None:
    for incident_id, run_id in (("inc-1", 131), ("inc-2", 132), ("inc-3", 133)):
        add_incident(table, incident_id, run_id)
    heal(table, github, "inc-1")
    [opened] = pulls_opened(github)
    github.close_pull(REPO, only(github.repo_state(REPO).pulls))  # the maintainer rejects the fix

    second = heal(table, github, "inc-2")
    third = heal(table, github, "inc-3")
    assert pulls_opened(github) == [opened]
    [issue] = github.calls_to("POST", rf"^/repos/{REPO}/issues$")
    assert "closed without merging" in issue.json["body"] and "#1" in issue.json["body"]
    assert second.execution["status"] == "escalated"
    assert second.execution["issue"]["number"] == only(github.repo_state(REPO).issues)
    said = [t["details"] for t in incident(table, "inc-2")["timeline"] if t["event"] == "same_problem"]
    assert said and "closed without merging" in said[0]
    # once, not per run: the third incident links to the issue and writes nothing
    assert third.execution["issue"]["number"] == only(github.repo_state(REPO).issues)
    assert github.calls_to("POST", rf"^/repos/{REPO}/issues/\d+/comments$") == []
    assert incident(table, "inc-3")["status"] == "escalated"


def test_a_merged_fix_that_did_not_help_becomes_an_issue_not_a_second_pull_request(
    table: StateTable, github: GitHubStandIn
) -> None:
    add_incident(table, "inc-1", 141)
    add_incident(table, "inc-2", 142)
    heal(table, github, "inc-1")
    [opened] = pulls_opened(github)
    github.close_pull(REPO, only(github.repo_state(REPO).pulls), merge=True)

    second = heal(table, github, "inc-2")
    assert pulls_opened(github) == [opened]
    [issue] = github.calls_to("POST", rf"^/repos/{REPO}/issues$")
    assert "did not help" in issue.json["body"] and "#1" in issue.json["body"]
    assert second.execution["status"] == "escalated"


def test_two_healers_at_once_open_one_pull_request(table: StateTable, github: GitHubStandIn) -> None:
    add_incident(table, "inc-1", 151)
    add_incident(table, "inc-2", 152)
    start = threading.Barrier(2)
    outcomes: dict[str, dict[str, Any]] = {}

    def healer(incident_id: str) -> None:
        deps = dependencies(table, github)
        state = PlaybookState(tenant_id="default", incident_id=incident_id, dry_run=False)
        state.planned = {"value": plan(deps, state)}
        start.wait(timeout=30)
        outcomes[incident_id] = execute(deps, state)

    threads = [threading.Thread(target=healer, args=(i,)) for i in ("inc-1", "inc-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(pulls_opened(github)) == 1
    assert sorted(o["status"] for o in outcomes.values()) == ["done", "linked"]


def test_in_dry_run_a_known_problem_plans_the_link_and_writes_nothing(table: StateTable, github: GitHubStandIn) -> None:
    add_incident(table, "inc-1", 161)
    add_incident(table, "inc-2", 162)
    heal(table, github, "inc-1")
    writes = len(github.writes())
    claim_before = table.query(keys.repair_claims_pk("default", REPO))
    planned = heal(table, github, "inc-2", dry_run=True)
    assert planned.execution["status"] == "planned"
    assert planned.execution["planned_calls"] == []
    assert "same problem as incident inc-1" in planned.execution["reason"]
    assert len(github.writes()) == writes
    assert table.query(keys.repair_claims_pk("default", REPO)) == claim_before  # no claim, no link written
    assert incident(table, "inc-1")["occurrences"] == 1
    audit = [a for a in table.query(keys.audit_pk("default"), "AUDIT#") if a["incident_id"] == "inc-2"]
    assert [a["result"] for a in audit] == ["planned: same problem as incident inc-1, pull request #1"]
