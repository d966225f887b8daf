"""Which repair fits a diagnosis: pure rules, no I/O, so every choice is testable and explainable.

Every plan names the rule that produced it; the audit record carries that rule as the "why".
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

RepairAction = Literal[
    "open_fix_pr", "rerun_failed_jobs", "open_issue", "dispatch_retrain", "rollback_deployment", "none"
]

PLAYBOOK_FOR_INCIDENT = {
    "pipeline_failure": "pipeline_failure_fix",
    "flaky_test": "flaky_test_response",
    "data_drift": "data_drift_response",
    "model_degradation": "model_degradation_response",
    "deployment_failure": "deployment_failure_response",
}
TRANSIENT_CATEGORIES = frozenset({"network_transient", "infrastructure", "timeout"})


class RepairPlan(BaseModel):
    action: RepairAction
    rule: str
    verify: bool = False
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class PlanningContext(BaseModel):
    """What the planner may know beyond the incident itself."""

    round: int = 1
    reruns_done: int = 0
    flaky_rerun_budget: int = 2
    known_flaky: bool = False
    last_good_ref: str | None = None
    retrain_workflow: str | None = None


def playbook_for(incident_type: str, category: str | None = None, known_flaky: bool = False) -> str:
    if incident_type == "pipeline_failure" and (category == "flaky_test" or known_flaky):
        return "flaky_test_response"
    return PLAYBOOK_FOR_INCIDENT.get(incident_type, "pipeline_failure_fix")


def plan_repair(incident: dict[str, Any], context: PlanningContext) -> RepairPlan:
    """The repair for an incident in the given round (1 = first attempt)."""
    incident_type = str(incident.get("type", "pipeline_failure"))
    diagnosis = incident.get("diagnosis") or {}
    category = str(diagnosis.get("category", "unknown"))
    details = dict(diagnosis.get("details") or {})

    if incident_type == "data_drift":
        if context.retrain_workflow:
            return RepairPlan(
                action="dispatch_retrain",
                rule="drift:retrain",
                verify=False,
                details={"workflow": context.retrain_workflow},
            )
        return RepairPlan(
            action="open_issue",
            rule="drift:no_retrain_workflow",
            reason="no retrain workflow configured (drift.retrain_workflow)",
        )
    if incident_type in {"model_degradation", "deployment_failure"}:
        if context.last_good_ref:
            return RepairPlan(
                action="rollback_deployment",
                rule=f"{incident_type}:rollback",
                verify=False,
                details={"ref": context.last_good_ref},
            )
        return RepairPlan(
            action="open_issue",
            rule=f"{incident_type}:no_good_baseline",
            reason="no earlier successful deployment to roll back to",
        )

    if category == "flaky_test" or context.known_flaky:
        if context.reruns_done < context.flaky_rerun_budget:
            return RepairPlan(
                action="rerun_failed_jobs",
                rule="flaky:rerun_within_budget",
                verify=True,
                details={"tests": details.get("tests", [])},
            )
        return RepairPlan(
            action="open_issue",
            rule="flaky:budget_spent",
            reason=f"re-run {context.reruns_done} times; tests stay flaky",
        )
    if category == "dependency_missing" and details.get("package"):
        return RepairPlan(
            action="open_fix_pr",
            rule=f"dependency_missing:{diagnosis.get('kind', 'module')}",
            verify=True,
            details={
                "package": details["package"],
                "module": details.get("module"),
                "ecosystem": "node" if "node" in str(diagnosis.get("kind")) else "python",
            },
        )
    if category in TRANSIENT_CATEGORIES and context.reruns_done == 0:
        return RepairPlan(action="rerun_failed_jobs", rule=f"{category}:rerun_once", verify=True)
    reason = "persistent after a re-run" if category in TRANSIENT_CATEGORIES else f"no automatic fix for {category}"
    return RepairPlan(action="open_issue", rule=f"{category}:escalate", reason=reason)


def problem_signature(diagnosis: dict[str, Any] | None) -> tuple[str, str, str]:
    """Two diagnoses with the same signature are the same problem (a fix that did not help)."""
    diagnosis = diagnosis or {}
    details = diagnosis.get("details") or {}
    subject = details.get("module") or details.get("requirement") or ",".join(sorted(details.get("tests", [])))
    return str(diagnosis.get("category", "unknown")), str(diagnosis.get("kind", "unknown")), str(subject)
