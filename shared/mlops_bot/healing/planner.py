"""Which repair fits a diagnosis: pure rules, no I/O, so every choice is testable and explainable.

Every plan names the rule that produced it; the audit record carries that rule as the "why".

How sure it must be: a repair that changes files (a pull request) is planned only when the
diagnosis confidence reaches the repository's write threshold, set by its `detection_sensitivity`
(`mlops_bot.diagnosis.write_threshold`: low 0.95, medium 0.85, high 0.75), and nothing in the
diagnosis rules a pull request out (`fix_pr_blocker`); otherwise the plan is an issue with the
diagnosis, never a pull request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from mlops_bot.detection.incidents import Incident
from mlops_bot.diagnosis.confidence import fix_pr_blocker, would_open_fix_pr, write_threshold
from mlops_bot.diagnosis.problem import Problem

RepairAction = Literal[
    "open_fix_pr",
    "fix_version_pin",
    "raise_job_timeout",
    "quarantine_flaky_tests",
    "release_flaky_tests",
    "rerun_failed_jobs",
    "open_issue",
    "dispatch_retrain",
    "rollback_deployment",
    "none",
]

# The `parameters` of a manual heal each repair reads (they replace the plan's details of that name);
# a parameter no repair reads is refused by the management API rather than carried and ignored.
MANUAL_PARAMETERS: dict[str, frozenset[str]] = {
    "rollback_deployment": frozenset({"ref", "environment"}),  # what to deploy, and where
    "dispatch_retrain": frozenset({"ref", "workflow"}),  # the retrain workflow, and the ref it runs on
}

# Repairs that change files in the repository (always through a pull request on a bot branch).
FILE_CHANGING_ACTIONS: frozenset[str] = frozenset(
    {"open_fix_pr", "fix_version_pin", "raise_job_timeout", "quarantine_flaky_tests", "release_flaky_tests"}
)


class Sensitivity(StrEnum):
    """The spec's `detection_sensitivity`: how readily the bot acts on what it diagnoses."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


GITHUB_MAX_JOB_MINUTES = 360  # GitHub-hosted runners stop every job at 6 hours, whatever the workflow says

PLAYBOOK_FOR_INCIDENT = {
    "pipeline_failure": "pipeline_failure_fix",
    "flaky_test": "flaky_test_response",
    "flaky_test_stable": "flaky_test_response",
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
    sensitivity: Sensitivity = Sensitivity.MEDIUM
    quarantine_reruns: int = 3  # `@pytest.mark.flaky(reruns=N)` on quarantined tests


def playbook_for(incident_type: str, category: str | None = None, known_flaky: bool = False) -> str:
    if incident_type == "pipeline_failure" and (category == "flaky_test" or known_flaky):
        return "flaky_test_response"
    return PLAYBOOK_FOR_INCIDENT.get(incident_type, "pipeline_failure_fix")


def plan_repair(incident: Incident, context: PlanningContext) -> RepairPlan:
    """The repair for an incident in the given round (1 = first attempt), gated by confidence."""
    plan = _choose(incident, context)
    # Releasing a quarantine rests on the flake history, not on a log diagnosis: it is not gated.
    if plan.action not in FILE_CHANGING_ACTIONS or plan.action == "release_flaky_tests":
        return plan
    diagnosis = incident.diagnosis or {}
    confidence = float(diagnosis.get("confidence") or 0.0)
    threshold = write_threshold(context.sensitivity.value)
    try:
        problem: Problem | None = Problem.model_validate(diagnosis)
    except ValidationError:
        problem = None
    blocker = "the diagnosis could not be read" if problem is None else fix_pr_blocker(problem)
    if problem is not None and would_open_fix_pr(problem, threshold):
        return plan
    reason = (
        f"no pull request: {blocker}"
        if blocker
        else f"diagnosis confidence {confidence:.2f} is below the {threshold:.2f} this repository requires "
        f"(detection_sensitivity {context.sensitivity.value}) before a pull request"
    )
    return RepairPlan(
        action="open_issue",
        rule=f"{plan.rule}:{'not_fixable' if blocker else 'below_threshold'}",
        reason=reason,
        details={"proposed": plan.action, **plan.details},
    )


_PINNED = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*(?P<version>[^\s;,]+)\s*$")


def _choose(incident: Incident, context: PlanningContext) -> RepairPlan:
    incident_type = incident.type
    diagnosis = incident.diagnosis or {}
    category = str(diagnosis.get("category", "unknown"))
    kind = str(diagnosis.get("kind", "unknown"))
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

    if incident_type == "flaky_test_stable":
        stable = [str(t) for t in incident.metadata.get("tests") or []]
        if stable:
            return RepairPlan(
                action="release_flaky_tests", rule="flaky:release_stable", verify=True, details={"tests": stable}
            )
        return RepairPlan(action="none", rule="flaky:nothing_to_release", reason="no quarantined test is stable")
    if category == "flaky_test" or context.known_flaky:
        tests = [str(t) for t in (details.get("flaky_tests") or details.get("tests") or [])]
        if context.reruns_done < context.flaky_rerun_budget:
            return RepairPlan(
                action="rerun_failed_jobs",
                rule="flaky:rerun_within_budget",
                verify=True,
                details={"tests": details.get("tests", [])},
            )
        pytest_ids = [t for t in tests if "::" in t and t.split("::", 1)[0].endswith(".py")]
        if pytest_ids:
            return RepairPlan(
                action="quarantine_flaky_tests",
                rule="flaky:quarantine",
                verify=True,
                reason=f"re-run {context.reruns_done} times; tests stay flaky",
                details={"tests": pytest_ids, "reruns": context.quarantine_reruns},
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
                **({"python_version": details["python_version"]} if details.get("python_version") else {}),
            },
        )
    if category == "dependency_resolution":
        return _plan_resolution(kind, details)
    if category == "timeout" and kind == "job-timeout":
        minutes = _minutes(details)
        if minutes is not None and minutes < GITHUB_MAX_JOB_MINUTES:
            return RepairPlan(
                action="raise_job_timeout",
                rule="timeout:raise_job_timeout",
                verify=True,
                details={"minutes": minutes, "raise_to": min(2 * minutes, GITHUB_MAX_JOB_MINUTES)},
            )
    if category in TRANSIENT_CATEGORIES and context.reruns_done == 0:
        return RepairPlan(action="rerun_failed_jobs", rule=f"{category}:rerun_once", verify=True)
    reason = "persistent after a re-run" if category in TRANSIENT_CATEGORIES else f"no automatic fix for {category}"
    return RepairPlan(action="open_issue", rule=f"{category}:escalate", reason=reason)


def _minutes(details: dict[str, Any]) -> int | None:
    found = re.match(r"\s*(\d+)\s*minutes?", str(details.get("limit") or ""))
    return int(found.group(1)) if found else None


def _plan_resolution(kind: str, details: dict[str, Any]) -> RepairPlan:
    """A pin to a version that does not exist moves; two pins that exclude each other go to a person."""
    requirement = str(details.get("requirement") or "")
    pinned = _PINNED.match(requirement)
    if kind == "pip-no-matching-distribution" and pinned:
        return RepairPlan(
            action="fix_version_pin",
            rule="dependency_resolution:move_pin",
            verify=True,
            details={
                "package": pinned["name"],
                "version": pinned["version"],
                "available_versions": [str(v) for v in details.get("available_versions") or []],
                **({"python_version": details["python_version"]} if details.get("python_version") else {}),
            },
        )
    conflicts = [str(c) for c in details.get("conflicts") or []]
    if conflicts:
        return RepairPlan(
            action="open_issue",
            rule="dependency_resolution:conflict",
            reason="conflicting requirements: " + "; ".join(conflicts[:4]),
            details={"conflicts": conflicts},
        )
    return RepairPlan(
        action="open_issue", rule="dependency_resolution:escalate", reason="no automatic fix for dependency_resolution"
    )


def stable_quarantined_tests(quarantined: Iterable[str], flaky_in_window: Iterable[str]) -> list[str]:
    """Quarantined tests with no flaky pass in the flake window (`detection.flaky`'s decay): release them.

    `flaky_in_window` is every test `flake_rates` reports with a flaky success over its window; the
    window's TTL is the decay, so a test absent from it has been stable for the whole window.
    """
    still_flaky = set(flaky_in_window)
    return [t for t in dict.fromkeys(quarantined) if t not in still_flaky]


def problem_signature(diagnosis: dict[str, Any] | None) -> tuple[str, str, str]:
    """Two diagnoses with the same signature are the same problem (a fix that did not help)."""
    diagnosis = diagnosis or {}
    details = diagnosis.get("details") or {}
    subject = details.get("module") or details.get("requirement") or ",".join(sorted(details.get("tests", [])))
    return str(diagnosis.get("category", "unknown")), str(diagnosis.get("kind", "unknown")), str(subject)
