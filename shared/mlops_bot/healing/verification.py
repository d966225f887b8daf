"""Proving a repair: the run that follows it decides, and the waiting playbook hears the verdict.

A fix pull request is proven by a run on its branch (`mlops-bot/<incident>`); a re-run by the
next attempt of the same run. Green resolves the incident. Red ends it as failed — unless the
new run shows a *different* problem and the incident still has attempts left, in which case the
playbook plans one more round. The token is cleared with a condition, so a redelivered event
cannot complete it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.stepfunctions import PlaybookRunner
from mlops_bot.config import Settings
from mlops_bot.diagnosis import Problem
from mlops_bot.healing.planner import problem_signature
from mlops_bot.storage import keys
from mlops_bot.webhooks.models import RepositoryEvent

BOT_BRANCH_PREFIX = "mlops-bot/"


@dataclass
class VerificationDependencies:
    settings: Settings
    table: StateTable
    runner: PlaybookRunner
    diagnose: Callable[[str, int, int | None], Problem]


def waiting_incident_for(table: StateTable, event: RepositoryEvent) -> dict[str, Any] | None:
    run = event.workflow_run
    if run is None or not event.repository:
        return None
    if run.head_branch and run.head_branch.startswith(BOT_BRANCH_PREFIX):
        incident_id = run.head_branch[len(BOT_BRANCH_PREFIX) :]
    elif (run.run_attempt or 1) > 1:
        incident_id = keys.incident_id_for_run(event.repository, run.id)
    else:
        return None
    item = table.get(keys.incident_key(event.tenant_id, incident_id))
    if not item or not (item.get("verification") or {}).get("task_token"):
        return None
    verification = item["verification"]
    if verification.get("run_id") and int(verification["run_id"]) != run.id:
        return None
    return item


def verify(deps: VerificationDependencies, event: RepositoryEvent) -> bool:
    """Complete the waiting playbook if this completed run proves (or disproves) a repair."""
    run = event.workflow_run
    if event.event != "workflow_run" or event.action != "completed" or run is None:
        return False
    incident = waiting_incident_for(deps.table, event)
    if incident is None:
        return False
    token = str(incident["verification"]["task_token"])
    key = keys.incident_key(event.tenant_id, str(incident["id"]))
    claimed = deps.table.set_fields(
        key,
        {"verification": None, "verified_by_run": run.id},
        condition="verification.task_token = :token",
        condition_values={":token": token},
    )
    if claimed is None:
        return True  # another delivery of this event already completed it
    if run.conclusion == "success":
        verdict: dict[str, Any] = {
            "conclusion": "success",
            "run_id": run.id,
            "details": f"run {run.id} passed on {run.head_branch}",
        }
    else:
        problem = deps.diagnose(event.repository or "", run.id, event.installation_id)
        new_problem = problem.model_dump(mode="json")
        same = problem_signature(new_problem) == problem_signature(incident.get("diagnosis"))
        attempts_left = int(incident.get("attempts", 0)) < deps.settings.max_attempts_per_incident
        retry = not same and attempts_left and problem.category != "unknown"
        verdict = {
            "conclusion": run.conclusion or "failure",
            "run_id": run.id,
            "retry": retry,
            "details": ("a new problem: " if retry else "the same problem persists: " if same else "")
            + f"{problem.category}/{problem.kind} in run {run.id}",
        }
        if retry:
            deps.table.set_fields(key, {"diagnosis": new_problem, "previous_diagnosis": incident.get("diagnosis")})
    deps.runner.complete_task(token, verdict)
    return True
