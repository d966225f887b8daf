from typing import Any

import pytest

from mlops_bot.detection.incidents import Incident
from mlops_bot.diagnosis import write_threshold
from mlops_bot.healing.planner import (
    PlanningContext,
    Sensitivity,
    plan_repair,
    playbook_for,
    problem_signature,
    stable_quarantined_tests,
)


def incident(incident_type: str = "pipeline_failure", diagnosis: dict[str, Any] | None = None) -> Incident:
    return Incident(
        id="inc-1",
        tenant_id="default",
        repository="acme/ml",
        type=incident_type,
        severity="high",
        description="CI failed",
        detected_at="2026-11-27T10:00:00Z",
        diagnosis=diagnosis,
    )


def failed(category: str, kind: str = "k", confidence: float = 0.95, **details: Any) -> Incident:
    return incident(diagnosis={"category": category, "kind": kind, "details": details, "confidence": confidence})


def test_missing_package_gets_a_verified_fix_pull_request() -> None:
    plan = plan_repair(
        failed("dependency_missing", "missing-python-module", module="sklearn", package="scikit-learn"),
        PlanningContext(),
    )
    assert plan.action == "open_fix_pr"
    assert plan.verify
    assert plan.details["package"] == "scikit-learn"
    assert plan.rule == "dependency_missing:missing-python-module"


def test_a_missing_command_without_a_package_is_escalated() -> None:
    assert (
        plan_repair(failed("dependency_missing", "missing-command", command="dvc"), PlanningContext()).action
        == "open_issue"
    )


@pytest.mark.parametrize("category", ["network_transient", "infrastructure", "timeout"])
def test_transient_failures_are_rerun_once_then_escalated(category: str) -> None:
    first = plan_repair(failed(category), PlanningContext())
    assert (first.action, first.verify) == ("rerun_failed_jobs", True)
    again = plan_repair(failed(category), PlanningContext(reruns_done=1))
    assert again.action == "open_issue"
    assert "persistent" in again.reason


def test_flaky_tests_rerun_within_budget_then_one_issue() -> None:
    context = PlanningContext(known_flaky=True, flaky_rerun_budget=2)
    assert plan_repair(failed("test_failure"), context).action == "rerun_failed_jobs"
    spent = context.model_copy(update={"reruns_done": 2})
    assert plan_repair(failed("test_failure"), spent).action == "open_issue"
    assert playbook_for("pipeline_failure", "test_failure", known_flaky=True) == "flaky_test_response"


def test_everything_else_opens_an_issue() -> None:
    for category in ("test_failure", "syntax_error", "lint_failure", "out_of_memory", "unknown"):
        assert plan_repair(failed(category), PlanningContext()).action == "open_issue"


def test_degradation_rolls_back_only_to_a_known_good_ref() -> None:
    degraded = incident("model_degradation")
    assert plan_repair(degraded, PlanningContext(last_good_ref="v1.4.2")).details == {"ref": "v1.4.2"}
    assert plan_repair(degraded, PlanningContext()).action == "open_issue"
    drift = incident("data_drift")
    assert plan_repair(drift, PlanningContext(retrain_workflow="retrain.yml")).action == "dispatch_retrain"


def test_the_same_problem_has_the_same_signature() -> None:
    a = failed("dependency_missing", "missing-python-module", module="sklearn").diagnosis
    b = failed("dependency_missing", "missing-python-module", module="torch").diagnosis
    assert a is not None and b is not None
    assert problem_signature(a) == problem_signature(dict(a))
    assert problem_signature(a) != problem_signature(b)


# --------------------------------------------------------------------------------------------------
# How sure it must be: detection_sensitivity sets the confidence a pull request needs


def test_write_threshold_follows_detection_sensitivity() -> None:
    assert write_threshold("low") == 0.95
    assert write_threshold("medium") == 0.85
    assert write_threshold("high") == 0.75
    assert write_threshold(None) == write_threshold("medium") == write_threshold("nonsense")


@pytest.mark.parametrize(
    ("sensitivity", "confidence", "action"),
    [
        (Sensitivity.LOW, 0.9, "open_issue"),
        (Sensitivity.MEDIUM, 0.9, "open_fix_pr"),
        (Sensitivity.MEDIUM, 0.8, "open_issue"),
        (Sensitivity.HIGH, 0.8, "open_fix_pr"),
        (Sensitivity.HIGH, 0.5, "open_issue"),
    ],
)
def test_a_pull_request_needs_the_repositorys_confidence_else_an_issue(
    sensitivity: Sensitivity, confidence: float, action: str
) -> None:
    plan = plan_repair(
        failed("dependency_missing", "missing-python-module", confidence, module="cv2", package="opencv-python"),
        PlanningContext(sensitivity=sensitivity),
    )
    assert plan.action == action
    if action == "open_issue":
        assert plan.rule == "dependency_missing:missing-python-module:below_threshold"
        assert f"{confidence:.2f}" in plan.reason and sensitivity.value in plan.reason
        assert plan.details["proposed"] == "open_fix_pr"


def test_a_diagnosis_without_confidence_never_writes() -> None:
    diagnosis = {"category": "dependency_missing", "kind": "m", "details": {"package": "torch", "module": "torch"}}
    assert plan_repair(incident(diagnosis=diagnosis), PlanningContext(sensitivity=Sensitivity.HIGH)).action == (
        "open_issue"
    )


def test_reruns_rollbacks_and_issues_are_not_gated() -> None:
    assert plan_repair(failed("network_transient", confidence=0.3), PlanningContext()).action == "rerun_failed_jobs"


# --------------------------------------------------------------------------------------------------
# More repairs


def test_a_pin_to_a_version_that_does_not_exist_moves_by_pull_request() -> None:
    plan = plan_repair(
        failed(
            "dependency_resolution",
            "pip-no-matching-distribution",
            requirement="torch==9.9.9",
            package="torch",
            available_versions=["2.14.1", "2.15.0"],
        ),
        PlanningContext(),
    )
    assert (plan.action, plan.rule, plan.verify) == ("fix_version_pin", "dependency_resolution:move_pin", True)
    assert plan.details == {"package": "torch", "version": "9.9.9", "available_versions": ["2.14.1", "2.15.0"]}


def test_a_conflict_between_two_pins_opens_an_issue_naming_both() -> None:
    plan = plan_repair(
        failed(
            "dependency_resolution",
            "pip-resolution-impossible",
            requirement="pydantic-core==2.0.0",
            conflicts=["The user requested pydantic-core==2.0.0", "pydantic 2.6.4 depends on pydantic-core==2.16.3"],
        ),
        PlanningContext(),
    )
    assert (plan.action, plan.rule) == ("open_issue", "dependency_resolution:conflict")
    assert "pydantic-core==2.0.0" in plan.reason and "pydantic-core==2.16.3" in plan.reason


def test_an_unpinned_requirement_without_a_match_is_escalated() -> None:
    plan = plan_repair(
        failed("dependency_resolution", "pip-no-matching-distribution", requirement="torch>=9"), PlanningContext()
    )
    assert plan.action == "open_issue"


def test_a_job_that_hit_its_own_timeout_gets_it_doubled_capped_at_githubs_limit() -> None:
    plan = plan_repair(failed("timeout", "job-timeout", limit="30 minutes"), PlanningContext())
    assert (plan.action, plan.details) == ("raise_job_timeout", {"minutes": 30, "raise_to": 60})
    capped = plan_repair(failed("timeout", "job-timeout", limit="240 minutes"), PlanningContext())
    assert capped.details["raise_to"] == 360


def test_a_job_stopped_by_githubs_six_hours_is_not_raised() -> None:
    plan = plan_repair(failed("timeout", "job-timeout", limit="360 minutes"), PlanningContext())
    assert plan.action == "rerun_failed_jobs"


def test_flaky_pytest_tests_are_quarantined_once_the_rerun_budget_is_spent() -> None:
    flaky = failed("flaky_test", "inconsistent-outcome", flaky_tests=["tests/test_api.py::test_predict[cpu]"])
    assert plan_repair(flaky, PlanningContext()).action == "rerun_failed_jobs"
    plan = plan_repair(flaky, PlanningContext(reruns_done=2))
    assert (plan.action, plan.verify) == ("quarantine_flaky_tests", True)
    assert plan.details == {"tests": ["tests/test_api.py::test_predict[cpu]"], "reruns": 3}


def test_quarantined_tests_stable_for_the_flake_window_are_released() -> None:
    assert stable_quarantined_tests(["t.py::a", "t.py::b", "t.py::a"], ["t.py::b"]) == ["t.py::a"]
    stable = incident("flaky_test_stable")
    stable.metadata["tests"] = ["t.py::a"]
    plan = plan_repair(stable, PlanningContext())
    assert (plan.action, plan.details, plan.verify) == ("release_flaky_tests", {"tests": ["t.py::a"]}, True)
    assert playbook_for("flaky_test_stable") == "flaky_test_response"


def test_flaky_jobs_without_pytest_ids_still_get_the_issue() -> None:
    flaky = failed("flaky_test", "inconsistent-outcome", tests=["CI / test (3.11)"])
    assert plan_repair(flaky, PlanningContext(reruns_done=2)).action == "open_issue"
