"""What people read: the escalation issue and the notification, word for word, from the stored incident.

The texts are built from the incident's typed fields (id, repository, description, diagnosis,
metadata); these tests pin them byte for byte through the playbook steps, as a person receives them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from mlops_bot.adapters.github import GitHubClient
from mlops_bot.config import Settings
from mlops_bot.healing.actions import ActionDependencies, PlaybookState, execute, mark_failed, mark_resolved, plan
from mlops_bot.stores.actions import InMemoryActionLog
from mlops_bot.stores.audit import InMemoryAuditLog
from mlops_bot.stores.budgets import InMemoryRepairBudgetStore
from mlops_bot.stores.events import InMemoryEventStore
from mlops_bot.stores.flaky_history import InMemoryFlakyHistory
from mlops_bot.stores.incidents import Incident, InMemoryIncidentStore, Verification
from mlops_bot.stores.installations import InMemoryInstallationStore
from mlops_bot.stores.playbook_settings import InMemoryPlaybookSettingsStore
from mlops_bot.stores.quarantines import InMemoryQuarantineStore
from mlops_bot.stores.repair_claims import InMemoryRepairClaimStore
from mlops_bot.stores.repositories import InMemoryRepositoryStore, Repository, RepositoryConfiguration
from tests.support.github_standin import GitHubStandIn
from tests.support.slack_standin import SlackStandIn

TENANT, REPO, INCIDENT = "default", "acme/model", "inc-7"
RUN_URL = "https://github.com/acme/model/actions/runs/4242"
DIAGNOSIS = {
    "category": "test_failure",
    "kind": "pytest-assertion",
    "confidence": 0.9,
    "details": {"tests": ["tests/test_model.py::test_accuracy"], "step": "pytest"},
    "evidence": [{"line": 12, "text": "E   assert 0.71 >= 0.8"}, {"line": 13, "text": "FAILED test_accuracy"}],
}
METADATA = {
    "run_id": 4242,
    "installation_id": 5,
    "workflow_name": "CI",
    "html_url": RUN_URL,
    "head_branch": "main",
    "head_sha": "0123456789abcdef0123",
}


def dependencies(incidents: InMemoryIncidentStore, repositories: InMemoryRepositoryStore, github: str) -> Any:
    client = GitHubClient.from_token("t", github)
    return ActionDependencies(
        settings=Settings(),
        incidents=incidents,
        repositories=repositories,
        playbook_settings=InMemoryPlaybookSettingsStore(),
        action_log=InMemoryActionLog(),
        activity=InMemoryEventStore({(TENANT, REPO)}),
        installations=InMemoryInstallationStore(),
        budget=InMemoryRepairBudgetStore(),
        audit_log=InMemoryAuditLog(),
        flaky_history=InMemoryFlakyHistory(),
        quarantines=InMemoryQuarantineStore(),
        repair_claims=InMemoryRepairClaimStore(),
        github=lambda repository, installation: client,
    )


def stored(metadata: dict[str, Any]) -> InMemoryIncidentStore:
    incidents = InMemoryIncidentStore()
    incidents.open_or_update(
        Incident(
            id=INCIDENT,
            tenant_id=TENANT,
            repository=REPO,
            type="pipeline_failure",
            severity="high",
            description="Tests failed on main",
            detected_at="2026-11-27T10:00:00.000000Z",
            metadata=metadata,
            diagnosis=DIAGNOSIS,
        )
    )
    return incidents


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=("t",)) as standin:
        standin.add_repo(REPO)
        yield standin


def test_a_failure_the_bot_will_not_fix_becomes_an_issue_that_says_what_and_why(github: GitHubStandIn) -> None:
    repositories = InMemoryRepositoryStore()
    repositories.enroll(Repository(tenant_id=TENANT, full_name=REPO))
    deps = dependencies(stored(METADATA), repositories, github.url)
    state = PlaybookState(tenant_id=TENANT, incident_id=INCIDENT, dry_run=False)
    state.planned = {"value": plan(deps, state)}
    assert execute(deps, state)["status"] == "escalated"
    [created] = github.calls_to("POST", rf"^/repos/{REPO}/issues$")
    assert created.json["title"] == f"[mlops-bot] Tests failed on main ({INCIDENT})"
    assert created.json["body"] == (
        "mlops-bot detected a failure it will not fix automatically (no automatic fix for test_failure).\n"
        "\n"
        f"- Workflow: CI — run {RUN_URL}\n"
        "- Branch / commit: main @ 0123456789ab\n"
        "- Diagnosis: `test_failure` / `pytest-assertion` (confidence 0.9)\n"
        f"- Incident: `{INCIDENT}`\n"
        "\n"
        "Details:\n"
        "- tests: ['tests/test_model.py::test_accuracy']\n"
        "- step: pytest\n"
        "\n"
        "Evidence:\n"
        "```\n"
        "12: E   assert 0.71 >= 0.8\n"
        "13: FAILED test_accuracy\n"
        "```"
    )


def test_an_issue_about_a_run_without_its_links_says_what_it_knows(github: GitHubStandIn) -> None:
    repositories = InMemoryRepositoryStore()
    repositories.enroll(Repository(tenant_id=TENANT, full_name=REPO))
    deps = dependencies(stored({"run_id": 4242}), repositories, github.url)
    state = PlaybookState(tenant_id=TENANT, incident_id=INCIDENT, dry_run=False)
    state.planned = {"value": plan(deps, state)}
    execute(deps, state)
    [created] = github.calls_to("POST", rf"^/repos/{REPO}/issues$")
    assert created.json["body"].splitlines()[2:4] == ["- Workflow: None — run 4242", "- Branch / commit: None @ "]


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    standin = SlackStandIn()
    yield standin
    standin.close()


@pytest.mark.parametrize(
    ("metadata", "link"),
    [(METADATA, f" {RUN_URL}"), ({"run_id": 4242}, "")],
    ids=["with the run's link", "without a link"],
)
def test_the_channel_is_told_the_repository_the_failure_the_outcome_and_the_incident(
    slack: SlackStandIn, github: GitHubStandIn, metadata: dict[str, Any], link: str
) -> None:
    url, received = slack.url, slack.received
    repositories = InMemoryRepositoryStore()
    repositories.enroll(Repository(tenant_id=TENANT, full_name=REPO))
    configuration = RepositoryConfiguration.model_validate(
        {"notification_channels": ["slack"], "slack_webhook_url": url}
    )
    repositories.update_configuration(TENANT, REPO, configuration, "2026-11-27T10:01:00.000000Z")
    incidents = stored(metadata)
    deps = dataclasses.replace(dependencies(incidents, repositories, github.url), slack_transport=slack.transport)
    state = PlaybookState(tenant_id=TENANT, incident_id=INCIDENT, dry_run=False)
    state.planned = {"value": plan(deps, state)}
    incidents.await_verification(TENANT, INCIDENT, Verification(task_token="token-1"))
    mark_resolved(deps, state)
    mark_failed(deps, state.model_copy(update={"planned": {"value": {"attempt": 2}}}))
    assert [m["text"] for m in received] == [
        f"mlops-bot: {REPO} — Tests failed on main resolved (incident {INCIDENT}){link}",
        f"mlops-bot: {REPO} — Tests failed on main could not be healed (incident {INCIDENT}){link}",
    ]
