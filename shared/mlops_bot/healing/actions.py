"""The steps of the playbook state machines (run by the playbook-actions function).

Each step reads the execution state Step Functions passes in and returns what it adds. The state
machines (ASL in `mlops_bot/playbooks/asl/`) sequence them: plan → execute → await verification
→ resolved / failed, with rate-limit waits and a catch-all that marks the incident failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.adapters.github import GitHubClient, GitHubRateLimited
from mlops_bot.clock import iso, seconds_since, utc_now
from mlops_bot.config import Settings
from mlops_bot.errors import Invalid, NotFound
from mlops_bot.healing import audit, budgets, notifications, repair_claims
from mlops_bot.healing.planner import (
    FILE_CHANGING_ACTIONS,
    MANUAL_PARAMETERS,
    PlanningContext,
    RepairPlan,
    Sensitivity,
    plan_repair,
)
from mlops_bot.healing.repairs import REPAIRS, RepairSession, open_issue
from mlops_bot.repository_config import CONFIG_PATH, ConfigProblem, merged, parse
from mlops_bot.stores.actions import ActionLog, ActionRecord, ActionStatus
from mlops_bot.stores.audit import AuditLog
from mlops_bot.stores.budgets import RepairBudgetStore
from mlops_bot.stores.events import ActivityCounter, EventStore
from mlops_bot.stores.flaky_history import FlakyHistory
from mlops_bot.stores.incidents import (
    CLOSED_STATUSES,
    Incident,
    IncidentStatus,
    IncidentStore,
    IncidentType,
    NotificationSent,
    Severity,
    TimelineEntry,
    TimelineEvent,
    Verification,
)
from mlops_bot.stores.installations import InstallationStore
from mlops_bot.stores.playbook_settings import PlaybookSettingsStore
from mlops_bot.stores.quarantines import QuarantinedTest, QuarantineStore
from mlops_bot.stores.repair_claims import RepairClaimStore
from mlops_bot.stores.repositories import RepositoryStore
from mlops_bot.tenancy import installations

CLOSED = CLOSED_STATUSES


class PlaybookState(BaseModel):
    """The execution state as the state machine carries it."""

    model_config = ConfigDict(extra="allow")

    tenant_id: str
    incident_id: str
    playbook: str = "pipeline_failure_fix"
    dry_run: bool = True
    reason: str | None = None
    action: str | None = None
    force: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)  # a manual heal's (MANUAL_PARAMETERS)
    correlation_id: str | None = None
    planned: dict[str, Any] | None = None
    executed: dict[str, Any] | None = None
    verification: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def plan(self) -> dict[str, Any]:
        return dict((self.planned or {}).get("value") or {})

    @property
    def execution(self) -> dict[str, Any]:
        return dict((self.executed or {}).get("value") or {})


def _as_configured(configuration: dict[str, Any]) -> dict[str, Any]:
    return configuration


@dataclass
class ActionDependencies:
    """What the steps read and write, as stores (the playbook-actions handler builds the DynamoDB ones)."""

    settings: Settings
    incidents: IncidentStore
    repositories: RepositoryStore
    playbook_settings: PlaybookSettingsStore
    action_log: ActionLog
    activity: EventStore
    installations: InstallationStore
    budget: RepairBudgetStore
    audit_log: AuditLog  # one record per GitHub write a repair makes or plans
    flaky_history: FlakyHistory  # the flake rates a flaky-tests issue lists
    quarantines: QuarantineStore  # the tests a quarantine pull request marked, until one releases them
    repair_claims: RepairClaimStore  # which incident makes each file-changing repair (one pull request per problem)
    github: Callable[[str, int | None], GitHubClient | None]
    # A repository's notification settings under the system switches (`PUT /api/v1/config`
    # integrations); the handler injects the management layer's reader.
    notification_configuration: Callable[[dict[str, Any]], dict[str, Any]] = _as_configured
    # How notifications reach Slack over HTTP (None: the network; tests route it to a stand-in).
    slack_transport: notifications.SlackTransport | None = None


def _incident(deps: ActionDependencies, state: PlaybookState) -> Incident:
    found = deps.incidents.get(state.tenant_id, state.incident_id)
    if found is None:
        raise NotFound("Incident not found", state.incident_id)
    return found


def _none(rule: str, reason: str) -> dict[str, Any]:
    return RepairPlan(action="none", rule=rule, reason=reason).model_dump()


def _api_configuration(deps: ActionDependencies, tenant_id: str, repository: str) -> dict[str, Any]:
    """The management API's settings of the repository (what was set, nothing defaulted)."""
    found = deps.repositories.get(tenant_id, repository)
    return found.configuration.model_dump(mode="json", exclude_none=True) if found else {}


def effective_configuration(
    deps: ActionDependencies, tenant_id: str, repository: str, installation_id: int | None
) -> dict[str, Any]:
    """`.github/mlops-bot.yml` under the management API's settings; an invalid file opens an incident."""
    api_config = _api_configuration(deps, tenant_id, repository)
    client = deps.github(repository, installation_id)
    if client is None:
        return api_config
    found = client.get_file(repository, CONFIG_PATH)
    if found is None:
        return api_config
    parsed = parse(found.text)
    if isinstance(parsed, ConfigProblem):
        _config_incident(deps, tenant_id, repository, parsed, found.sha)
        return api_config
    return merged(parsed, api_config)


def _config_incident(
    deps: ActionDependencies, tenant_id: str, repository: str, problem: ConfigProblem, sha: str
) -> None:
    now = iso(utc_now())
    deps.incidents.open_or_update(
        Incident(
            id=f"inc-config-{sha[:12]}",
            tenant_id=tenant_id,
            repository=repository,
            type=IncidentType.CONFIGURATION_ERROR,
            severity=Severity.MEDIUM,
            status=IncidentStatus.AWAITING_HUMAN,
            description=f"{CONFIG_PATH} is invalid: {'; '.join(problem.errors)[:300]}",
            detected_at=now,
            metadata={"path": CONFIG_PATH, "errors": problem.errors, "sha": sha},
            timeline=[
                TimelineEntry(event=TimelineEvent.ISSUE_DETECTED, timestamp=now, details="configuration file rejected")
            ],
        ),
    )


def plan(deps: ActionDependencies, state: PlaybookState) -> dict[str, Any]:
    """Choose the repair, or `none` with the rule that stopped it (budget, breaker, disabled)."""
    incident = _incident(deps, state)
    repository = incident.repository
    if incident.status in CLOSED and state.reason != "manual":
        return _none("incident_closed", f"incident is already {incident.status.value}")
    setting = deps.playbook_settings.setting(state.tenant_id, state.playbook)
    if setting is not None and not setting.enabled:
        why = f": {setting.reason}" if setting.reason else ""
        return _none("playbook_disabled", f"playbook {state.playbook} is disabled{why}")
    refusal = budgets.circuit_open(deps.budget, state.tenant_id, repository)
    if refusal:
        return _none(refusal.rule, refusal.reason)
    attempts = incident.attempts
    if attempts >= deps.settings.max_attempts_per_incident and not state.force:
        return _none(
            "attempt_budget", f"{attempts} healing attempts made (limit {deps.settings.max_attempts_per_incident})"
        )
    configuration = effective_configuration(deps, state.tenant_id, repository, incident.installation_id)
    custom = configuration.get("custom_playbooks") or []
    if custom and state.playbook not in custom and state.reason != "manual":
        return _none("custom_playbooks", f"{state.playbook} is not among the repository's custom_playbooks")
    if not deps.incidents.begin_attempt(state.tenant_id, state.incident_id, attempts_seen=attempts):
        # Another round took this attempt number between the read and the write: plan on what it left.
        incident = _incident(deps, state)
        attempts = incident.attempts
        if not deps.incidents.begin_attempt(state.tenant_id, state.incident_id, attempts_seen=attempts):
            return _none("concurrent_round", "another healing round of this incident is being planned")
    reruns = sum(1 for a in incident.actions_taken if a.get("action") == "rerun_failed_jobs")
    context = PlanningContext(
        round=attempts + 1,
        reruns_done=reruns,
        flaky_rerun_budget=deps.settings.flaky_rerun_budget,
        known_flaky=bool(incident.metadata.get("known_flaky")),
        last_good_ref=deps.repositories.last_good_ref(state.tenant_id, repository),
        retrain_workflow=(configuration.get("drift") or {}).get("retrain_workflow"),
        sensitivity=_sensitivity(configuration),
    )
    chosen = plan_repair(incident, context)
    lock_refresh = configuration.get("lock_refresh_workflow")
    if chosen.action in FILE_CHANGING_ACTIONS and lock_refresh:
        chosen = chosen.model_copy(update={"details": {**chosen.details, "lock_refresh_workflow": str(lock_refresh)}})
    if state.action and state.action not in {"force", "retry_failed_action"} and state.action in REPAIRS:
        chosen = chosen.model_copy(update={"action": state.action, "rule": f"manual:{state.action}"})
        readable = MANUAL_PARAMETERS.get(state.action, frozenset())
        given = {k: str(v) for k, v in state.parameters.items() if k in readable}
        if given:
            chosen = chosen.model_copy(update={"details": {**chosen.details, **given}})
    dry_run = state.dry_run or configuration.get("auto_fix_enabled") is False
    return {**chosen.model_dump(), "attempt": attempts + 1, "dry_run": dry_run}


def _sensitivity(configuration: dict[str, Any]) -> Sensitivity:
    """The repository's `detection_sensitivity` (management API over `.github/mlops-bot.yml`, as `merged` decides)."""
    try:
        return Sensitivity(str(configuration.get("detection_sensitivity") or "medium").lower())
    except ValueError:
        return Sensitivity.MEDIUM


def execute(deps: ActionDependencies, state: PlaybookState) -> dict[str, Any]:
    """Carry out the plan once: idempotent per (incident, attempt, action), budgeted, audited."""
    planned = state.plan
    if not planned:
        raise Invalid("No plan", "execute needs the plan step's result")
    repair_plan = RepairPlan.model_validate(
        {k: planned[k] for k in ("action", "rule", "verify", "reason", "details") if k in planned}
    )
    dry_run = bool(planned.get("dry_run", True))
    incident = _incident(deps, state)
    repository = incident.repository
    action_id = f"{planned.get('attempt', 1)}-{repair_plan.action}"
    action_log = deps.action_log
    previous = action_log.get(state.tenant_id, state.incident_id, action_id)
    started_at = (previous.started_at if previous else None) or iso(utc_now())
    if previous and previous.status == ActionStatus.DONE and previous.outcome is not None:
        if not previous.recorded:  # the step died after acting, before the incident heard of it
            _record_outcome(deps, state, action_id, repair_plan.action, dict(previous.outcome), repository, started_at)
        return dict(previous.outcome)  # a retried step never writes twice
    action_log.start(
        ActionRecord(
            tenant_id=state.tenant_id,
            incident_id=state.incident_id,
            action_id=action_id,
            rule=repair_plan.rule,
            started_at=started_at,
        )
    )
    inactive = None if dry_run else installations.write_refusal(deps.installations, incident.installation_id)
    if inactive:  # no client is even asked for
        return _refuse(deps, state, action_id, repair_plan.action, started_at, "installation_inactive", inactive)
    installation_id = incident.installation_id
    client = deps.github(repository, installation_id)
    # One repair per problem: the first incident to plan it claims it; a later one follows (no write).
    try:
        claim = repair_claims.decide(deps.repair_claims, deps.incidents, client, incident, repair_plan, dry_run=dry_run)
    except GitHubRateLimited as limited:  # asking GitHub for the claimed pull request's state
        return _rate_limited(deps, state, action_id, limited)
    if claim.verdict in {repair_claims.Verdict.LINK, repair_claims.Verdict.ESCALATED}:
        followed = _follow(deps, state, incident, repair_plan, claim, action_id, dry_run)
        action_log.finish(state.tenant_id, state.incident_id, action_id, followed)
        _record_outcome(deps, state, action_id, repair_plan.action, followed, repository, started_at)
        return followed
    repair = REPAIRS[repair_plan.action]
    if claim.verdict == repair_claims.Verdict.ESCALATE:
        repair_plan = repair_plan.model_copy(
            update={"action": "open_issue", "rule": f"{repair_plan.rule}:not_again", "reason": claim.reason}
        )
        repair = partial(open_issue, title=claim.issue_title())
    if not dry_run:
        # Counted once per action, so a step retried at any point spends the budget once.
        write_id = f"{state.incident_id}/{action_id}"
        refusal = budgets.take_write(deps.budget, deps.settings, state.tenant_id, repository, write_id=write_id)
        if refusal:
            repair_claims.settle(
                deps.repair_claims, deps.incidents, incident, claim, {"status": "refused", "dry_run": False}
            )
            return _refuse(deps, state, action_id, repair_plan.action, started_at, refusal.rule, refusal.reason)
    session = RepairSession(
        audit_log=deps.audit_log,
        flaky_history=deps.flaky_history,
        client=client,
        dry_run=dry_run,
        tenant_id=state.tenant_id,
        incident=incident,
        playbook=state.playbook,
        plan=repair_plan,
        installation_id=installation_id,
        flake_window_days=deps.settings.flake_window_days,
    )
    try:
        result = repair(session)
    except GitHubRateLimited as limited:
        return _rate_limited(deps, state, action_id, limited)
    verify = repair_plan.verify and not dry_run and result.status == "done"
    outcome: dict[str, Any] = {
        "status": result.status,
        "action": repair_plan.action,
        "rule": session.plan.rule,
        "verify": verify,
        "branch": result.branch,
        "run_id": result.run_id,
        "changes_made": result.changes_made,
        "pull_request": result.pull_request,
        "issue": result.issue,
        "planned_calls": result.planned_calls,
        "dry_run": dry_run,
    }
    if claim.repair_key:
        outcome["repair_key"] = claim.repair_key
    if claim.verdict == repair_claims.Verdict.ESCALATE:
        outcome |= {"reason": claim.reason, "linked_to": claim.holder}
    repair_claims.settle(deps.repair_claims, deps.incidents, incident, claim, outcome)
    action_log.finish(state.tenant_id, state.incident_id, action_id, outcome)
    _record_outcome(deps, state, action_id, repair_plan.action, outcome, repository, started_at)
    return outcome


def _rate_limited(
    deps: ActionDependencies, state: PlaybookState, action_id: str, limited: GitHubRateLimited
) -> dict[str, Any]:
    wait = max(1, min(int(limited.retry_after_seconds) + 1, 3600))
    deps.action_log.rate_limited(state.tenant_id, state.incident_id, action_id, wait)
    return {"status": "rate_limited", "retry_after": wait, "verify": False}


def _refuse(
    deps: ActionDependencies, state: PlaybookState, action_id: str, action: str, started_at: str, rule: str, reason: str
) -> dict[str, Any]:
    refused = {"status": "refused", "verify": False, "reason": reason, "rule": rule}
    deps.action_log.finish(state.tenant_id, state.incident_id, action_id, refused)
    incident = _incident(deps, state)
    _record_outcome(deps, state, action_id, action, refused, incident.repository, started_at)
    return refused


def _follow(
    deps: ActionDependencies,
    state: PlaybookState,
    incident: Incident,
    plan_: RepairPlan,
    claim: repair_claims.ClaimDecision,
    action_id: str,
    dry_run: bool,
) -> dict[str, Any]:
    """The outcome of an incident that follows another's repair: no GitHub write, one audit record."""
    linked = claim.verdict == repair_claims.Verdict.LINK
    pull_request, issue = claim.pull_request(), claim.issue()
    where = f"/repos/{incident.repository}/{'pulls' if linked else 'issues'}"
    if linked:
        summary = "no new pull request: " + (
            f"the fix is pull request #{pull_request['number']}" if pull_request else "the fix is being prepared"
        )
    else:
        summary = "no new issue: " + (f"issue #{issue['number']} says so" if issue else "another incident opens it")
    audit.record(
        deps.audit_log,
        audit.AuditRecord(
            tenant_id=state.tenant_id,
            installation_id=incident.installation_id,
            repository=incident.repository,
            method="POST",
            path=where,
            summary=summary,
            incident_id=incident.id,
            playbook=state.playbook,
            rule=plan_.rule,
            dry_run=dry_run,
            result=f"{'planned' if dry_run else 'skipped'}: {claim.reason}"[:500],
            details={"repair_key": claim.repair_key, "linked_to": claim.holder},
        ),
        idempotency_key=f"{incident.id}/{action_id}/follow",
    )
    status = "planned" if dry_run else "linked" if linked else "escalated"
    return {
        "status": status,
        "action": plan_.action if linked else "open_issue",
        "rule": plan_.rule if linked else f"{plan_.rule}:not_again",
        "verify": False,
        "branch": None,
        "run_id": None,
        "changes_made": [],
        "pull_request": pull_request if linked else None,
        "issue": None if linked else issue,
        "planned_calls": [],
        "dry_run": dry_run,
        "reason": claim.reason,
        "linked_to": claim.holder,
        "repair_key": claim.repair_key,
        "followed": True,  # no write of its own: not a repair attempt
    }


def _record_outcome(
    deps: ActionDependencies,
    state: PlaybookState,
    action_id: str,
    action: str,
    outcome: dict[str, Any],
    repository: str,
    started_at: str,
) -> None:
    """Put the action's outcome on the incident (once) and count the attempt; then note it is there."""
    if outcome["status"] == "refused":
        status = IncidentStatus.AWAITING_HUMAN
    elif outcome["status"] == "linked":
        status = IncidentStatus.LINKED
    elif outcome.get("verify"):
        status = IncidentStatus.VERIFYING
    else:
        status = {"planned": IncidentStatus.PLANNED, "escalated": IncidentStatus.ESCALATED}.get(
            outcome["status"], IncidentStatus.HEALING
        )
    details = {
        k: outcome[k]
        for k in ("changes_made", "pull_request", "issue", "planned_calls", "reason", "linked_to")
        if outcome.get(k)
    }
    finished = utc_now()
    began = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    entry = {
        "action": action,
        "status": outcome["status"],
        "timestamp": iso(finished),
        "started_at": started_at,
        "duration": round(max(0.0, (finished - began).total_seconds()), 3),
        "rule": outcome.get("rule"),
        "details": details,
    }
    _note_quarantine(deps, state, action, outcome, iso(finished))
    # Each write below counts once even when a crash repeats it; the log's note comes last.
    if outcome["status"] != "refused" and not outcome.get("dry_run", True) and not outcome.get("followed"):
        deps.activity.count(
            state.tenant_id, repository, ActivityCounter.REPAIRS_ATTEMPTED, once=f"{state.incident_id}/{action_id}"
        )
    follows = bool(outcome.get("linked_to")) and not outcome.get("dry_run", True)
    if follows:  # before the status: whoever sees `linked` (or `escalated`) also sees which incident it follows
        _note_same_problem(deps, state, action_id, outcome)
    deps.incidents.record_action(state.tenant_id, state.incident_id, action_id, entry, status)
    if follows and outcome["status"] == "linked":  # its holder may have closed already: take its verdict
        repair_claims.follow_if_closed(deps.incidents, _incident(deps, state), str(outcome["linked_to"]))
    deps.action_log.mark_recorded(state.tenant_id, state.incident_id, action_id)


def _note_same_problem(deps: ActionDependencies, state: PlaybookState, action_id: str, outcome: dict[str, Any]) -> None:
    """Say on the timeline which incident this one follows (once, however often the step runs)."""
    entry = TimelineEntry.now(TimelineEvent.SAME_PROBLEM, f"{outcome.get('reason')}; no repair of its own")
    deps.incidents.note(state.tenant_id, state.incident_id, entry, once=f"same-problem-{action_id}")


def await_verification(deps: ActionDependencies, state: PlaybookState, task_token: str) -> dict[str, Any]:
    """Park the task token on the incident; the detector completes it when the proving run ends."""
    executed = state.execution
    run_id = executed.get("run_id")
    verification = Verification(
        task_token=task_token,
        branch=executed.get("branch"),
        run_id=int(run_id) if run_id is not None else None,
        attempt=int(state.plan.get("attempt", 1)),
        since=iso(utc_now()),
    )
    deps.incidents.await_verification(state.tenant_id, state.incident_id, verification)
    return {"waiting": True}


def _seconds_since(start: str | None) -> int | None:
    return seconds_since(start) if start else None


def _round(state: PlaybookState, incident: Incident) -> int:
    """The healing round this execution is in: the plan's attempt, or the incident's when it never planned."""
    return int(state.plan.get("attempt") or incident.attempts)


def mark_resolved(deps: ActionDependencies, state: PlaybookState) -> dict[str, Any]:
    """Close the incident as healed; a retried step changes nothing more (breaker and notice go once)."""
    incident = _incident(deps, state)
    entry = TimelineEntry.now(TimelineEvent.ISSUE_RESOLVED, (state.verification or {}).get("details"))
    closed = deps.incidents.close(
        state.tenant_id,
        state.incident_id,
        IncidentStatus.RESOLVED,
        entry,
        once=f"{IncidentStatus.RESOLVED.value}-{_round(state, incident)}",
        resolution_time=_seconds_since(incident.detected_at),
    )
    if closed:
        budgets.record_outcome(deps.budget, deps.settings, state.tenant_id, incident.repository, healed=True)
        _notify(deps, state, incident, "issue_resolved")
    # Incidents that followed this one's repair are resolved with it (also on a retried step).
    repair_claims.follow_verdict(
        deps.repair_claims, deps.incidents, incident, IncidentStatus.RESOLVED, entry.details or "resolved"
    )
    return {"status": "resolved"}


def mark_failed(deps: ActionDependencies, state: PlaybookState) -> dict[str, Any]:
    """Close the incident as not healed and count the failure towards the repository's breaker, once."""
    incident = _incident(deps, state)
    cause = (
        (state.error or {}).get("Cause")
        or (state.error or {}).get("Error")
        or (state.verification or {}).get("details")
        or "the repair did not make the run pass"
    )
    entry = TimelineEntry.now(TimelineEvent.ISSUE_FAILED, str(cause)[:500])
    closed = deps.incidents.close(
        state.tenant_id,
        state.incident_id,
        IncidentStatus.FAILED,
        entry,
        once=f"{IncidentStatus.FAILED.value}-{_round(state, incident)}",
    )
    paused = False
    if closed:
        paused = budgets.record_outcome(deps.budget, deps.settings, state.tenant_id, incident.repository, healed=False)
        _notify(deps, state, incident, "issue_failed")
    repair_claims.follow_verdict(deps.repair_claims, deps.incidents, incident, IncidentStatus.FAILED, str(cause)[:500])
    return {"status": "failed", "repository_paused": paused}


def _notify(deps: ActionDependencies, state: PlaybookState, incident: Incident, event: str) -> None:
    configuration = deps.notification_configuration(_api_configuration(deps, state.tenant_id, incident.repository))
    results = notifications.notify(
        configuration,
        incident,
        event,
        sender=deps.settings.notification_sender or None,
        slack_transport=deps.slack_transport,
    )
    at = iso(utc_now())
    sent = [NotificationSent(channel=r["channel"], result=r["result"][:200], event=event, at=at) for r in results]
    deps.incidents.add_notifications(state.tenant_id, state.incident_id, sent)


def mark_skipped(deps: ActionDependencies, state: PlaybookState) -> dict[str, Any]:
    plan_ = state.plan
    entry = TimelineEntry.now(TimelineEvent.HEALING_SKIPPED, f"{plan_.get('rule')}: {plan_.get('reason')}")
    deps.incidents.note_skipped(
        state.tenant_id, state.incident_id, entry, awaiting_human=plan_.get("rule") != "incident_closed"
    )
    return {"status": "skipped", "rule": plan_.get("rule")}


STEPS: dict[str, Callable[[ActionDependencies, PlaybookState], dict[str, Any]]] = {
    "plan": plan,
    "execute": execute,
    "mark_resolved": mark_resolved,
    "mark_failed": mark_failed,
    "mark_skipped": mark_skipped,
}


def run_step(
    deps: ActionDependencies, name: str, state: PlaybookState, task_token: str | None = None
) -> dict[str, Any]:
    if name == "await_verification":
        if not task_token:
            raise Invalid("No task token", "await_verification runs as a .waitForTaskToken task")
        return await_verification(deps, state, task_token)
    try:
        step = STEPS[name]
    except KeyError as exc:
        raise Invalid("Unknown playbook action", name) from exc
    return step(deps, state)


def _note_quarantine(
    deps: ActionDependencies, state: PlaybookState, action: str, outcome: dict[str, Any], at: str
) -> None:
    """A quarantine pull request opened: remember its tests; a release pull request opened: forget them.

    Only what the bot did (not dry run, a pull request open); repeating it after a crash writes the same.
    """
    if action not in {"quarantine_flaky_tests", "release_flaky_tests"}:
        return
    pull_request = outcome.get("pull_request") or {}
    if outcome.get("status") != "done" or outcome.get("dry_run", True) or not pull_request:
        return
    incident = _incident(deps, state)
    if action == "release_flaky_tests":
        released = [str(t) for t in incident.metadata.get("tests") or []]
        deps.quarantines.release(state.tenant_id, incident.repository, released)
        return
    marked = [c for c in outcome.get("changes_made") or [] if c.get("type") == "quarantine"]
    workflow = incident.metadata.get("workflow_name")
    for test_id in dict.fromkeys(str(t) for change in marked for t in change.get("tests") or []):
        deps.quarantines.quarantine(
            QuarantinedTest(
                tenant_id=state.tenant_id,
                repository=incident.repository,
                test_id=test_id,
                quarantined_at=at,
                incident_id=incident.id,
                workflow=str(workflow) if workflow else None,
                installation_id=incident.installation_id,
                pull_request=pull_request.get("number"),
            )
        )
