"""Proving a repair: the run that follows it decides, and the waiting playbook hears the verdict.

A fix pull request is proven by a run on its branch (`mlops-bot/<incident>`); a re-run by the
next attempt of the same run. Green resolves the incident. Red ends it as failed — unless the
new run shows a *different* problem and the incident still has attempts left, in which case the
playbook plans one more round.

The verdict is sent before the task token is forgotten: a detector that dies in between leaves the
token, the redelivered event sends the verdict again, Step Functions refuses it (the task is no
longer waiting), and the token is then cleared — the playbook hears exactly one verdict. Clearing
first would lose it: the playbook would wait for a verdict nobody sends.

A run that comes after the verification deadline (`verification_deadline`: the incident was handed
to a person, its token kept) still decides: if the playbook still waits it hears the verdict as
usual; if it stopped waiting, a green run resolves the incident here (and the incidents that follow
its repair), and a red one is noted on the timeline for the person who has it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mlops_bot.clock import seconds_since
from mlops_bot.config import Settings
from mlops_bot.diagnosis import Problem
from mlops_bot.healing import repair_claims
from mlops_bot.healing.planner import problem_signature
from mlops_bot.messages import BOT_BRANCH_PREFIX, RepositoryEvent, WorkflowRun
from mlops_bot.storage import keys
from mlops_bot.stores.incidents import Incident, IncidentStatus, IncidentStore, TimelineEntry, TimelineEvent
from mlops_bot.stores.repair_claims import RepairClaimStore


class TaskCompleter(Protocol):
    def complete_task(self, task_token: str, output: dict[str, Any]) -> bool:
        """Resume a waiting task; False when the token is no longer waiting."""
        ...


@dataclass
class VerificationDependencies:
    settings: Settings
    runner: TaskCompleter
    diagnose: Callable[[str, int, int | None], Problem]
    incidents: IncidentStore
    repair_claims: RepairClaimStore | None = None  # the followers of a repair proven after the deadline


def waiting_incident_for(incidents: IncidentStore, event: RepositoryEvent) -> Incident | None:
    run = event.workflow_run
    if run is None or not event.repository:
        return None
    if run.head_branch and run.head_branch.startswith(BOT_BRANCH_PREFIX):
        incident_id = run.head_branch[len(BOT_BRANCH_PREFIX) :]
    elif (run.run_attempt or 1) > 1:
        incident_id = keys.incident_id_for_run(event.repository, run.id)
    else:
        return None
    incident = incidents.get(event.tenant_id, incident_id)
    if incident is None or incident.verification is None or not incident.verification.task_token:
        return None
    if incident.verification.run_id and incident.verification.run_id != run.id:
        return None
    return incident


def verify(deps: VerificationDependencies, event: RepositoryEvent) -> bool:
    """Complete the waiting playbook if this completed run proves (or disproves) a repair."""
    run = event.workflow_run
    if event.event != "workflow_run" or event.action != "completed" or run is None:
        return False
    incident = waiting_incident_for(deps.incidents, event)
    if incident is None or incident.verification is None:
        return False
    token = incident.verification.task_token
    if run.conclusion == "success":
        verdict: dict[str, Any] = {
            "conclusion": "success",
            "run_id": run.id,
            "details": f"run {run.id} passed on {run.head_branch}",
        }
    else:
        problem = deps.diagnose(event.repository or "", run.id, event.installation_id)
        new_problem = problem.model_dump(mode="json")
        # The diagnosis this round planned on (an earlier delivery of this run may have replaced it).
        planned_on = incident.previous_diagnosis if incident.verification.rediagnosed else incident.diagnosis
        same = problem_signature(new_problem) == problem_signature(planned_on)
        attempts_left = incident.attempts < deps.settings.max_attempts_per_incident
        retry = not same and attempts_left and problem.category != "unknown"
        verdict = {
            "conclusion": run.conclusion or "failure",
            "run_id": run.id,
            "retry": retry,
            "details": ("a new problem: " if retry else "the same problem persists: " if same else "")
            + f"{problem.category}/{problem.kind} in run {run.id}",
        }
        if retry:
            deps.incidents.rediagnose(event.tenant_id, incident.id, new_problem, task_token=token)
    if not deps.runner.complete_task(token, verdict):  # a previous delivery sent it, or nothing waits any more
        # Read again: the deadline's sweep may have handed the incident over since it was read above.
        current = deps.incidents.get(event.tenant_id, incident.id)
        waiting = current.verification if current else None
        overdue = bool(waiting and waiting.task_token == token and waiting.overdue_at)
        if current and overdue and current.status == IncidentStatus.AWAITING_HUMAN:
            _decide_after_the_deadline(deps, current, run, verdict)  # the playbook stopped waiting
    deps.incidents.clear_verification(event.tenant_id, incident.id, token, run.id)
    return True


def _decide_after_the_deadline(
    deps: VerificationDependencies, incident: Incident, run: WorkflowRun, verdict: dict[str, Any]
) -> None:
    """A run that concluded after the deadline, with no playbook waiting: it decides here."""
    assert incident.verification is not None
    attempt = incident.verification.attempt
    if run.conclusion != "success":
        entry = TimelineEntry.now(
            TimelineEvent.VERIFIED,
            f"run {run.id} concluded {run.conclusion or 'failure'} after the verification deadline: "
            f"the repair is not proven, the incident stays with a person ({verdict['details']})",
        )
        deps.incidents.note(incident.tenant_id, incident.id, entry, once=f"late-run-{run.id}")
        return
    details = f"run {run.id} passed on {run.head_branch} after the verification deadline"
    entry = TimelineEntry.now(TimelineEvent.ISSUE_RESOLVED, details)
    deps.incidents.close(
        incident.tenant_id,
        incident.id,
        IncidentStatus.RESOLVED,
        entry,
        once=f"{IncidentStatus.RESOLVED.value}-{attempt}",  # the playbook's MarkResolved uses the same
        resolution_time=seconds_since(incident.detected_at),
    )
    if deps.repair_claims is not None:
        repair_claims.follow_verdict(deps.repair_claims, deps.incidents, incident, IncidentStatus.RESOLVED, details)
