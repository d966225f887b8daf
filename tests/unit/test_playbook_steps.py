"""The playbook steps (plan, execute, await verification, resolve, fail, skip) on the in-memory stores.

What a user relies on: the bot respects the switches and budgets before it touches a repository,
and a step that Step Functions retries after a crash records, spends and counts nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mlops_bot.adapters.github import GitHubClient
from mlops_bot.config import Settings
from mlops_bot.healing.actions import (
    ActionDependencies,
    PlaybookState,
    await_verification,
    execute,
    mark_failed,
    mark_resolved,
    mark_skipped,
    plan,
)
from mlops_bot.stores.actions import InMemoryActionLog
from mlops_bot.stores.audit import InMemoryAuditLog
from mlops_bot.stores.budgets import InMemoryRepairBudgetStore
from mlops_bot.stores.events import ActivityCounter, InMemoryEventStore
from mlops_bot.stores.flaky_history import InMemoryFlakyHistory
from mlops_bot.stores.incidents import Incident, IncidentStatus, InMemoryIncidentStore, Verification
from mlops_bot.stores.installations import InMemoryInstallationStore, InstallationItem, InstallationStatus
from mlops_bot.stores.playbook_settings import InMemoryPlaybookSettingsStore, PlaybookSetting
from mlops_bot.stores.quarantines import InMemoryQuarantineStore
from mlops_bot.stores.repair_claims import InMemoryRepairClaimStore
from mlops_bot.stores.repositories import (
    InMemoryRepositoryStore,
    ModelBaseline,
    ModelDeployment,
    Repository,
    RepositoryConfiguration,
)
from tests.support.github_standin import GitHubStandIn
from tests.support.memory import Crash, fail_once
from tests.support.slack_standin import SlackStandIn

TENANT, REPO, INCIDENT = "default", "acme/model", "inc-1"
PLAYBOOK = "pipeline_failure_fix"


class Steps:
    """The steps' stores in memory, one incident, no GitHub (the repository's own file is not read)."""

    def __init__(
        self,
        github: Callable[[str, int | None], GitHubClient | None] = lambda repository, installation: None,
        diagnosis: dict[str, Any] | None = None,
        **settings: Any,
    ) -> None:
        self.incidents = InMemoryIncidentStore()
        self.repositories = InMemoryRepositoryStore()
        self.playbook_settings = InMemoryPlaybookSettingsStore()
        self.actions = InMemoryActionLog()
        self.activity = InMemoryEventStore({(TENANT, REPO)})
        self.installations = InMemoryInstallationStore()
        self.budget = InMemoryRepairBudgetStore()
        self.audit = InMemoryAuditLog()
        self.quarantines = InMemoryQuarantineStore()
        self.deps = ActionDependencies(
            settings=Settings(**settings),
            incidents=self.incidents,
            repositories=self.repositories,
            playbook_settings=self.playbook_settings,
            action_log=self.actions,
            activity=self.activity,
            installations=self.installations,
            budget=self.budget,
            audit_log=self.audit,
            flaky_history=InMemoryFlakyHistory(),
            quarantines=self.quarantines,
            repair_claims=InMemoryRepairClaimStore(),
            github=github,
        )
        self.repositories.enroll(Repository(tenant_id=TENANT, full_name=REPO))
        self.incidents.open_or_update(
            Incident(
                id=INCIDENT,
                tenant_id=TENANT,
                repository=REPO,
                type="pipeline_failure",
                severity="high",
                description="CI failed",
                detected_at="2026-11-25T10:00:00.000000Z",
                metadata={"run_id": 77, "installation_id": 5},
                diagnosis=diagnosis or {"category": "unknown", "kind": "k", "details": {}},
            )
        )

    def incident(self) -> Incident:
        found = self.incidents.get(TENANT, INCIDENT)
        assert found is not None
        return found

    def events(self, event: str) -> int:
        return [t.event for t in self.incident().timeline].count(event)


def state(**changes: Any) -> PlaybookState:
    return PlaybookState(tenant_id=TENANT, incident_id=INCIDENT, playbook=PLAYBOOK, dry_run=False, **changes)


def planned(steps: Steps, **changes: Any) -> PlaybookState:
    current = state(**changes)
    current.planned = {"value": plan(steps.deps, current)}
    return current


# ---------------------------------------------------------------- plan


def test_plan_chooses_a_repair_and_starts_the_first_round() -> None:
    steps = Steps()
    chosen = plan(steps.deps, state())
    assert chosen["action"] != "none" and chosen["attempt"] == 1 and chosen["dry_run"] is False
    incident = steps.incident()
    assert incident.status == IncidentStatus.HEALING and incident.attempts == 1


def test_plan_of_a_disabled_playbook_repairs_nothing_and_spends_no_attempt() -> None:
    steps = Steps()
    steps.playbook_settings.save_setting(PlaybookSetting(tenant_id=TENANT, playbook=PLAYBOOK, enabled=False))
    chosen = plan(steps.deps, state())
    assert (chosen["action"], chosen["rule"]) == ("none", "playbook_disabled")
    assert steps.incident().attempts == 0


def test_the_reason_a_playbook_was_disabled_is_on_the_refusal() -> None:
    steps = Steps()
    steps.playbook_settings.save_setting(
        PlaybookSetting(tenant_id=TENANT, playbook=PLAYBOOK, enabled=False, reason="flaky runners this week")
    )
    chosen = plan(steps.deps, state())
    assert chosen["rule"] == "playbook_disabled" and chosen["reason"].endswith(": flaky runners this week")


def test_another_tenants_switch_does_not_disable_the_playbook() -> None:
    steps = Steps()
    steps.playbook_settings.save_setting(PlaybookSetting(tenant_id="other", playbook=PLAYBOOK, enabled=False))
    assert plan(steps.deps, state())["action"] != "none"


def test_plan_stops_at_the_attempt_budget_unless_forced() -> None:
    steps = Steps(MLOPS_BOT_MAX_ATTEMPTS_PER_INCIDENT=1)
    plan(steps.deps, state())
    assert plan(steps.deps, state())["rule"] == "attempt_budget"
    forced = plan(steps.deps, state(force=True))
    assert forced["action"] != "none" and forced["attempt"] == 2


def test_plan_leaves_a_closed_incident_alone_unless_healing_was_asked_for() -> None:
    steps = Steps()
    closing = planned(steps)
    mark_resolved(steps.deps, closing)
    assert plan(steps.deps, state())["rule"] == "incident_closed"
    assert plan(steps.deps, state(reason="manual"))["action"] != "none"


def test_plan_respects_a_repository_paused_by_the_circuit_breaker() -> None:
    steps = Steps()
    steps.budget.record_failure(TENANT, REPO, pause_at=1)
    assert plan(steps.deps, state())["rule"] == "circuit_breaker"


def test_plan_follows_the_repositorys_settings_from_the_api() -> None:
    steps = Steps()
    steps.repositories.update_configuration(
        TENANT, REPO, RepositoryConfiguration(auto_fix_enabled=False), "2026-11-25T10:01:00.000000Z"
    )
    assert plan(steps.deps, state())["dry_run"] is True  # auto fix off: the plan is recorded, not made
    other = Steps()
    other.repositories.update_configuration(
        TENANT, REPO, RepositoryConfiguration(custom_playbooks=["flaky_test_response"]), "2026-11-25T10:01:00.000000Z"
    )
    assert plan(other.deps, state())["rule"] == "custom_playbooks"


def test_a_failed_deployment_rolls_back_to_the_repositorys_last_good_ref() -> None:
    steps = Steps()
    steps.incidents.open_or_update(
        steps.incident().model_copy(update={"id": "inc-deploy", "type": "deployment_failure", "diagnosis": None})
    )
    deploy = state().model_copy(update={"incident_id": "inc-deploy", "playbook": "deployment_failure_response"})
    assert plan(steps.deps, deploy)["rule"] == "deployment_failure:no_good_baseline"
    steps.repositories.record_model_baseline(
        TENANT, REPO, ModelBaseline(metrics={"accuracy": 0.9}, ref="v1.5.0"), ModelDeployment(ref="v1.5.0")
    )
    chosen = plan(steps.deps, deploy)
    assert (chosen["action"], chosen["details"]) == ("rollback_deployment", {"ref": "v1.5.0"})


def test_a_rollback_goes_to_the_exact_commit_the_good_deployment_reported() -> None:
    """`deployment.sha` of posted model metrics: a ref like `main` moves on, the commit does not."""
    steps = Steps()
    steps.incidents.open_or_update(
        steps.incident().model_copy(update={"id": "inc-deploy", "type": "deployment_failure", "diagnosis": None})
    )
    deploy = state().model_copy(update={"incident_id": "inc-deploy", "playbook": "deployment_failure_response"})
    good = ModelDeployment(ref="main", sha="3f2c1a9b8e7d")
    steps.repositories.record_model_baseline(TENANT, REPO, ModelBaseline(metrics={"accuracy": 0.9}, ref="main"), good)
    assert plan(steps.deps, deploy)["details"] == {"ref": "3f2c1a9b8e7d"}


def test_a_manual_rollbacks_parameters_are_its_target() -> None:
    """`parameters` of a manual heal (POST .../resolve) reach the repair: here the ref and environment."""
    steps = Steps()
    steps.incidents.open_or_update(
        steps.incident().model_copy(update={"id": "inc-deploy", "type": "deployment_failure", "diagnosis": None})
    )
    steps.repositories.record_model_baseline(
        TENANT, REPO, ModelBaseline(metrics={"accuracy": 0.9}, ref="v1.5.0"), ModelDeployment(ref="v1.5.0")
    )
    manual = state().model_copy(
        update={
            "incident_id": "inc-deploy",
            "playbook": "deployment_failure_response",
            "reason": "manual",
            "action": "rollback_deployment",
            "parameters": {"ref": "v1.4.2", "environment": "staging"},
        }
    )
    chosen = plan(steps.deps, manual)
    assert (chosen["action"], chosen["details"]) == ("rollback_deployment", {"ref": "v1.4.2", "environment": "staging"})


def test_a_round_another_plan_took_first_is_not_taken_twice() -> None:
    steps = Steps()
    assert steps.incidents.begin_attempt(TENANT, INCIDENT, attempts_seen=0)
    assert not steps.incidents.begin_attempt(TENANT, INCIDENT, attempts_seen=0)  # a concurrent round lost
    assert plan(steps.deps, state())["attempt"] == 2  # planned on what the other round left
    assert steps.incident().attempts == 2


# ---------------------------------------------------------------- execute


def test_execute_refused_by_the_spent_write_budget_hands_the_incident_to_a_person_once() -> None:
    steps = Steps(MLOPS_BOT_MAX_WRITES_PER_REPO_PER_DAY=0)
    current = planned(steps)
    first = execute(steps.deps, current)
    again = execute(steps.deps, current)  # Step Functions retried the step
    assert first["status"] == again["status"] == "refused" and first["rule"] == "write_budget"
    incident = steps.incident()
    assert incident.status == IncidentStatus.AWAITING_HUMAN and len(incident.actions_taken) == 1
    assert steps.activity.counters[(TENANT, REPO, ActivityCounter.REPAIRS_ATTEMPTED.value)] == 0


def test_execute_for_a_suspended_installation_makes_no_write_and_spends_no_budget() -> None:
    steps = Steps()
    steps.installations.save(
        InstallationItem(
            installation_id=5,
            status=InstallationStatus.SUSPENDED,
            status_reason="suspended on GitHub",
            created_at="2026-11-25T09:00:00.000000Z",
            updated_at="2026-11-25T09:00:00.000000Z",
        )
    )
    outcome = execute(steps.deps, planned(steps))
    assert (outcome["status"], outcome["rule"]) == ("refused", "installation_inactive")
    assert sum(steps.budget.writes.values()) == 0


def test_execute_killed_before_the_incident_heard_records_the_outcome_once_on_retry() -> None:
    steps = Steps(MLOPS_BOT_MAX_WRITES_PER_REPO_PER_DAY=0)
    current = planned(steps)
    fail_once(steps.incidents, "record_action")
    with pytest.raises(Crash):
        execute(steps.deps, current)
    assert steps.incident().actions_taken == []
    execute(steps.deps, current)
    execute(steps.deps, current)
    assert len(steps.incident().actions_taken) == 1 and steps.events("action_executed") == 1


MISSING_PACKAGE = {
    "category": "dependency_missing",
    "kind": "missing-python-module",
    "confidence": 0.95,
    "details": {"module": "sklearn", "package": "scikit-learn"},
}


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    """The loopback stand-in GitHub holding the repository the incident is about."""
    with GitHubStandIn(tokens=("t",)) as standin:
        standin.add_repo(REPO, files={"requirements.txt": "numpy\npandas\n"})
        yield standin


def fix_pull_request_steps(github: GitHubStandIn) -> Steps:
    client = GitHubClient.from_token("t", github.url)
    return Steps(lambda repository, installation: client, diagnosis=MISSING_PACKAGE)


def github_writes(github: GitHubStandIn) -> int:
    return sum(len(github.calls_to(method, rf"^/repos/{REPO}/")) for method in ("POST", "PUT", "PATCH", "DELETE"))


def test_a_dry_run_records_the_planned_calls_in_the_action_log_and_the_audit_and_writes_nothing(
    github: GitHubStandIn,
) -> None:
    steps = fix_pull_request_steps(github)
    current = state().model_copy(update={"dry_run": True})
    current.planned = {"value": plan(steps.deps, current)}
    outcome = execute(steps.deps, current)
    assert (outcome["status"], outcome["action"], outcome["dry_run"], outcome["verify"]) == (
        "planned",
        "open_fix_pr",
        True,
        False,
    )
    planned_paths = [(c["method"], c["path"]) for c in outcome["planned_calls"]]
    assert planned_paths == [
        ("POST", f"/repos/{REPO}/git/refs"),
        ("PUT", f"/repos/{REPO}/contents/requirements.txt"),
        ("POST", f"/repos/{REPO}/pulls"),
    ]
    logged = steps.actions.get(TENANT, INCIDENT, "1-open_fix_pr")
    assert logged is not None and logged.recorded and logged.outcome == outcome
    audited = steps.audit.trail(TENANT).records
    assert [(r.method, r.path) for r in audited] == planned_paths
    assert all(r.dry_run and r.result == "planned" and r.incident_id == INCIDENT for r in audited)
    assert github_writes(github) == 0 and sum(steps.budget.writes.values()) == 0
    incident = steps.incident()
    assert incident.status == IncidentStatus.PLANNED and len(incident.actions_taken) == 1
    assert steps.activity.counters[(TENANT, REPO, ActivityCounter.REPAIRS_ATTEMPTED.value)] == 0


def test_a_fix_pull_request_spends_one_unit_of_the_write_budget_however_often_the_step_runs(
    github: GitHubStandIn,
) -> None:
    steps = fix_pull_request_steps(github)
    current = planned(steps)
    outcome = execute(steps.deps, current)
    assert (outcome["status"], outcome["action"], outcome["verify"]) == ("done", "open_fix_pr", True)
    [pull] = github.calls_to("POST", rf"^/repos/{REPO}/pulls$")
    assert pull.json["head"] == f"mlops-bot/{INCIDENT}" and outcome["pull_request"]["branch"] == pull.json["head"]
    assert execute(steps.deps, current) == outcome  # Step Functions retried the step
    assert github_writes(github) == 3  # the branch, the file, the pull request: each made once
    assert sum(steps.budget.writes.values()) == 1
    audited = steps.audit.trail(TENANT).records
    assert len(audited) == 3 and all(not r.dry_run and r.result == "done" for r in audited)
    assert steps.incident().status == IncidentStatus.VERIFYING
    assert steps.activity.counters[(TENANT, REPO, ActivityCounter.REPAIRS_ATTEMPTED.value)] == 1


def test_execute_without_a_plan_is_refused() -> None:
    steps = Steps()
    with pytest.raises(Exception, match="No plan"):
        execute(steps.deps, state())


# ---------------------------------------------------------------- verification and the end of a round


def test_await_verification_parks_the_token_on_the_incident() -> None:
    steps = Steps()
    current = planned(steps)
    current.executed = {"value": {"status": "done", "branch": f"mlops-bot/{INCIDENT}", "run_id": 900}}
    assert await_verification(steps.deps, current, "token-1") == {"waiting": True}
    incident = steps.incident()
    assert incident.status == IncidentStatus.VERIFYING
    assert incident.verification is not None
    assert (incident.verification.task_token, incident.verification.run_id) == ("token-1", 900)
    assert incident.verification.attempt == 1


def test_mark_resolved_closes_the_incident_once_however_often_it_is_retried() -> None:
    steps = Steps()
    current = planned(steps)
    steps.incidents.await_verification(TENANT, INCIDENT, Verification(task_token="token-1"))
    steps.budget.record_failure(TENANT, REPO, pause_at=3)
    current.verification = {"details": "run 900 passed"}
    assert mark_resolved(steps.deps, current) == {"status": "resolved"}
    mark_resolved(steps.deps, current)
    incident = steps.incident()
    assert incident.status == IncidentStatus.RESOLVED and incident.verification is None
    assert incident.resolved_at is not None and incident.resolution_time is not None
    assert steps.events("issue_resolved") == 1
    assert steps.budget.failures[(TENANT, REPO)] == 0  # a healed repository starts its breaker afresh


def test_mark_failed_retried_counts_one_failure_towards_the_breaker() -> None:
    steps = Steps(MLOPS_BOT_CIRCUIT_BREAKER_THRESHOLD=2)
    current = planned(steps)
    current.error = {"Error": "States.Timeout", "Cause": "no proving run within the hour"}
    first = mark_failed(steps.deps, current)
    second = mark_failed(steps.deps, current)
    assert first == second == {"status": "failed", "repository_paused": False}
    incident = steps.incident()
    assert incident.status == IncidentStatus.FAILED and incident.failed_at is not None
    assert steps.events("issue_failed") == 1 and steps.budget.failures[(TENANT, REPO)] == 1
    assert incident.timeline[-1].details == "no proving run within the hour"


def test_failed_rounds_in_a_row_pause_the_repository() -> None:
    steps = Steps(MLOPS_BOT_CIRCUIT_BREAKER_THRESHOLD=2, MLOPS_BOT_MAX_ATTEMPTS_PER_INCIDENT=5)
    assert mark_failed(steps.deps, planned(steps))["repository_paused"] is False
    assert mark_failed(steps.deps, planned(steps, reason="manual"))["repository_paused"] is True
    assert plan(steps.deps, state(reason="manual"))["rule"] == "circuit_breaker"


def test_mark_skipped_hands_the_incident_to_a_person_with_the_reason() -> None:
    steps = Steps()
    steps.playbook_settings.save_setting(PlaybookSetting(tenant_id=TENANT, playbook=PLAYBOOK, enabled=False))
    assert mark_skipped(steps.deps, planned(steps)) == {"status": "skipped", "rule": "playbook_disabled"}
    incident = steps.incident()
    assert incident.status == IncidentStatus.AWAITING_HUMAN
    assert incident.timeline[-1].details == f"playbook_disabled: playbook {PLAYBOOK} is disabled"


def test_a_skip_because_the_incident_was_closed_keeps_its_status() -> None:
    steps = Steps()
    mark_resolved(steps.deps, planned(steps))
    mark_skipped(steps.deps, planned(steps))
    assert steps.incident().status == IncidentStatus.RESOLVED and steps.events("healing_skipped") == 1


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """Slack's incoming webhook on loopback, keeping what it received."""
    standin = SlackStandIn()
    yield standin
    standin.close()


def test_a_failed_round_is_told_once_on_the_repositorys_channel_however_often_retried(
    slack: SlackStandIn,
) -> None:
    url, received = slack.url, slack.received
    steps = Steps()
    steps.deps.slack_transport = slack.transport
    configuration = RepositoryConfiguration.model_validate(
        {"notification_channels": ["slack"], "slack_webhook_url": url}
    )
    steps.repositories.update_configuration(TENANT, REPO, configuration, "2026-11-25T10:01:00.000000Z")
    current = planned(steps)
    mark_failed(steps.deps, current)
    mark_failed(steps.deps, current)
    [message] = received
    assert INCIDENT in message["text"] and "could not be healed" in message["text"]
    [noted] = steps.incident().notifications
    assert (noted.channel, noted.result, noted.event) == ("slack", "sent", "issue_failed")
