"""Verification on the in-memory store: the waiting playbook hears exactly one verdict per proving run."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_bot.config import Settings
from mlops_bot.diagnosis import Problem
from mlops_bot.healing.verification import VerificationDependencies, verify
from mlops_bot.messages import RepositoryEvent, WorkflowRun
from mlops_bot.stores.incidents import Incident, InMemoryIncidentStore, Verification
from tests.support.memory import Crash, MemoryRunner, crash_after, fail_once

TENANT, REPO, INCIDENT = "default", "acme/model", "inc-1"
MISSING_NUMPY = {
    "category": "dependency_missing",
    "kind": "missing-python-module",
    "details": {"module": "numpy"},
    "evidence": [],
    "confidence": 0.9,
}


class Verifier:
    def __init__(self, problem: Problem | None = None, attempts: int = 1) -> None:
        self.incidents = InMemoryIncidentStore()
        self.runner = MemoryRunner()
        self.problem = problem or Problem.unknown("no logs")
        self.deps = VerificationDependencies(Settings(), self.runner, self.diagnose, self.incidents)
        self.incidents.open_or_update(
            Incident(
                id=INCIDENT,
                tenant_id=TENANT,
                repository=REPO,
                type="pipeline_failure",
                severity="high",
                status="verifying",
                description="CI failed",
                detected_at="2026-11-25T10:00:00.000000Z",
                diagnosis=MISSING_NUMPY,
                attempts=attempts,
                verification=Verification(task_token="token-1", branch=f"mlops-bot/{INCIDENT}", run_id=None),
            )
        )

    def diagnose(self, repository: str, run_id: int, installation_id: int | None) -> Problem:
        return self.problem


def run_on_fix_branch(conclusion: str, run_id: int = 500) -> RepositoryEvent:
    return RepositoryEvent(
        tenant_id=TENANT,
        delivery_id=f"d-{run_id}",
        execution_id="e",
        event="workflow_run",
        action="completed",
        received_at="2026-11-25T10:05:00.000000Z",
        repository=REPO,
        workflow_run=WorkflowRun(id=run_id, conclusion=conclusion, head_branch=f"mlops-bot/{INCIDENT}"),
    )


def verdicts(verifier: Verifier) -> list[dict[str, Any]]:
    return list(verifier.runner.completed.values())


def test_a_green_run_on_the_fix_branch_completes_the_playbook_once_and_forgets_the_token() -> None:
    verifier = Verifier()
    assert verify(verifier.deps, run_on_fix_branch("success"))
    assert verify(verifier.deps, run_on_fix_branch("success")) is False  # redelivered: nothing waits any more
    [verdict] = verdicts(verifier)
    assert verdict["conclusion"] == "success" and verdict["run_id"] == 500
    incident = verifier.incidents.get(TENANT, INCIDENT)
    assert incident is not None and incident.verification is None and incident.verified_by_run == 500


def test_a_different_problem_with_attempts_left_asks_for_another_round_and_keeps_the_old_diagnosis() -> None:
    verifier = Verifier(Problem.model_validate({**MISSING_NUMPY, "kind": "version-conflict", "details": {}}))
    verify(verifier.deps, run_on_fix_branch("failure"))
    [verdict] = verdicts(verifier)
    assert verdict["retry"] is True
    incident = verifier.incidents.get(TENANT, INCIDENT)
    assert incident is not None and incident.previous_diagnosis == MISSING_NUMPY


def test_the_same_problem_again_ends_the_incident() -> None:
    verifier = Verifier(Problem.model_validate(MISSING_NUMPY))
    verify(verifier.deps, run_on_fix_branch("failure"))
    [verdict] = verdicts(verifier)
    assert verdict["retry"] is False and verdict["details"].startswith("the same problem persists")


def test_a_detector_killed_before_the_verdict_is_sent_sends_it_on_the_redelivery() -> None:
    verifier = Verifier()
    fail_once(verifier.runner, "complete_task")
    with pytest.raises(Crash):
        verify(verifier.deps, run_on_fix_branch("success"))
    incident = verifier.incidents.get(TENANT, INCIDENT)
    assert incident is not None and incident.verification is not None  # the token is not lost
    assert verify(verifier.deps, run_on_fix_branch("success"))
    assert len(verdicts(verifier)) == 1


def test_a_detector_killed_after_the_verdict_completes_the_playbook_exactly_once() -> None:
    verifier = Verifier()
    crash_after(verifier.runner, "complete_task")
    with pytest.raises(Crash):
        verify(verifier.deps, run_on_fix_branch("success"))
    assert verify(verifier.deps, run_on_fix_branch("success"))
    assert len(verdicts(verifier)) == 1 and verifier.runner.refused_completions == 1
    incident = verifier.incidents.get(TENANT, INCIDENT)
    assert incident is not None and incident.verification is None


def test_a_redelivery_after_the_rediagnosis_gives_the_same_verdict() -> None:
    verifier = Verifier(Problem.model_validate({**MISSING_NUMPY, "kind": "version-conflict", "details": {}}))
    fail_once(verifier.runner, "complete_task")
    with pytest.raises(Crash):
        verify(verifier.deps, run_on_fix_branch("failure"))
    verify(verifier.deps, run_on_fix_branch("failure"))
    [verdict] = verdicts(verifier)
    assert verdict["retry"] is True  # compared with the diagnosis the round planned on, not its replacement
