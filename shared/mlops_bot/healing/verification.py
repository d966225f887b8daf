"""Proving a repair: the run that follows it decides, and the waiting playbook hears the verdict.

A fix pull request is proven by a run on its branch (`mlops-bot/<incident>`); a re-run by the
next attempt of the same run. Green resolves the incident. Red ends it as failed — unless the
new run shows a *different* problem and the incident still has attempts left, in which case the
playbook plans one more round.

The verdict is sent before the task token is forgotten: a detector that dies in between leaves the
token, the redelivered event sends the verdict again, Step Functions refuses it (the task is no
longer waiting), and the token is then cleared — the playbook hears exactly one verdict. Clearing
first would lose it: the playbook would wait for a verdict nobody sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mlops_bot.config import Settings
from mlops_bot.diagnosis import Problem
from mlops_bot.healing.planner import problem_signature
from mlops_bot.messages import BOT_BRANCH_PREFIX, RepositoryEvent
from mlops_bot.storage import keys
from mlops_bot.stores.incidents import Incident, IncidentStore


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
    deps.runner.complete_task(token, verdict)  # False when a previous delivery already sent it
    deps.incidents.clear_verification(event.tenant_id, incident.id, token, run.id)
    return True
