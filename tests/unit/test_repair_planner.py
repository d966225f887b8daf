from typing import Any

import pytest

from mlops_bot.healing.planner import PlanningContext, plan_repair, playbook_for, problem_signature


def failed(category: str, kind: str = "k", **details: Any) -> dict[str, Any]:
    return {
        "id": "inc-1",
        "type": "pipeline_failure",
        "diagnosis": {"category": category, "kind": kind, "details": details},
    }


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
    incident = {"id": "i", "type": "model_degradation"}
    assert plan_repair(incident, PlanningContext(last_good_ref="v1.4.2")).details == {"ref": "v1.4.2"}
    assert plan_repair(incident, PlanningContext()).action == "open_issue"
    drift = {"id": "i", "type": "data_drift"}
    assert plan_repair(drift, PlanningContext(retrain_workflow="retrain.yml")).action == "dispatch_retrain"


def test_the_same_problem_has_the_same_signature() -> None:
    a = failed("dependency_missing", "missing-python-module", module="sklearn")["diagnosis"]
    b = failed("dependency_missing", "missing-python-module", module="torch")["diagnosis"]
    assert problem_signature(a) == problem_signature(dict(a))
    assert problem_signature(a) != problem_signature(b)
