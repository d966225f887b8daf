"""The newer repairs driven through the playbook steps (plan → execute) against moto and the stand-ins.

Each one opens its pull request on `mlops-bot/<incident>` with the diff the audit log records, is
verified by the next run like every fix, and in dry run writes nothing but the recorded plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.github import GitHubClient
from mlops_bot.config import Settings
from mlops_bot.detection.incidents import Incident, incident_item
from mlops_bot.diagnosis import diagnose_path
from mlops_bot.healing import budgets
from mlops_bot.healing.actions import PlaybookState, execute, plan
from mlops_bot.storage import keys
from mlops_bot.stores.budgets import DynamoRepairBudgetStore
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from tests.support.aws import MockState
from tests.support.github_standin import GitHubStandIn
from tests.support.pypi_standin import PyPIStandIn
from tests.support.stores import action_dependencies

REPO = "acme/trainer"
TOKEN = "ghs_more-repairs"
LOGS = Path(__file__).resolve().parents[1] / "data" / "logs"

TRAIN_WORKFLOW = """\
name: Train
on: [push]
jobs:
  train:
    runs-on: ubuntu-latest
    # the GPU box is slow on Mondays
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt && python train.py
"""


@pytest.fixture
def table(aws: MockState) -> StateTable:
    state = StateTable(aws.table_name)
    enroll_repository(DynamoRepositoryStore(state), "default", REPO, source="test")
    return state


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=(TOKEN,)) as standin:
        yield standin


@pytest.fixture
def pypi(monkeypatch: pytest.MonkeyPatch) -> Iterator[PyPIStandIn]:
    with PyPIStandIn() as standin:
        monkeypatch.setenv("MLOPS_BOT_PYPI_URL", standin.url)
        yield standin


def add_incident(table: StateTable, diagnosis: dict[str, Any], *, incident_id: str = "inc-1", **metadata: Any) -> None:
    incident = Incident(
        id=incident_id,
        tenant_id="default",
        repository=REPO,
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at="2026-11-27T10:00:00.000000Z",
        metadata={"run_id": 77, "installation_id": 1, "workflow_path": ".github/workflows/train.yml", **metadata},
        diagnosis=diagnosis,
    )
    table.put(incident_item(incident))


def diagnosed(log: str) -> dict[str, Any]:
    """What the detector stores for a real log of the corpus."""
    return diagnose_path(LOGS / log).model_dump(mode="json")


def heal(
    table: StateTable,
    github: GitHubStandIn,
    *,
    dry_run: bool,
    incident_id: str = "inc-1",
    playbook: str = "pipeline_failure_fix",
    **settings: Any,
) -> dict[str, Any]:
    deps = action_dependencies(
        Settings(MLOPS_BOT_TABLE_NAME=table.name, **settings),  # type: ignore[call-arg]
        table,
        lambda repository, installation: GitHubClient.from_token(TOKEN, github.url),
    )
    state = PlaybookState(tenant_id="default", incident_id=incident_id, dry_run=dry_run, playbook=playbook)
    state.planned = {"value": plan(deps, state)}
    return execute(deps, state)


def sensitive(table: StateTable) -> None:
    """`detection_sensitivity: high`: a pull request at 0.75 confidence (a test that failed then
    passed in one run diagnoses at 0.8, below the default 0.85)."""
    table.set_fields(keys.repository_key("default", REPO), {"configuration": {"detection_sensitivity": "high"}})


def pr_diff(outcome: dict[str, Any]) -> str:
    return "".join(str(c.get("diff", "")) for c in outcome["changes_made"])


# --------------------------------------------------------------------------------------------------
# dependency_resolution: a pin to a version that does not exist


PINNED = "# training image\nnumpy==1.26.4\ntorch==9.9.9  # GPU build\n"


def test_a_pin_to_a_version_that_does_not_exist_moves_to_the_nearest_one_the_log_lists(
    table: StateTable, github: GitHubStandIn
) -> None:
    github.add_repo(REPO, files={"requirements.txt": PINNED, ".github/workflows/train.yml": TRAIN_WORKFLOW})
    add_incident(table, diagnosed("pip_no_matching_version.log"))
    outcome = heal(table, github, dry_run=False)

    assert (outcome["status"], outcome["action"], outcome["verify"]) == ("done", "fix_version_pin", True)
    branch = "mlops-bot/inc-1"
    assert outcome["branch"] == branch
    assert github.file_text(REPO, "requirements.txt", ref=branch) == PINNED.replace("9.9.9", "2.15.0")
    assert github.file_text(REPO, "requirements.txt") == PINNED  # default branch untouched
    assert "-torch==9.9.9  # GPU build\n+torch==2.15.0  # GPU build\n" in pr_diff(outcome)
    [pull] = github.calls_to("POST", r"/pulls$")
    assert pull.json["title"] == "Move the torch pin from 9.9.9 to 2.15.0"
    assert pull.json["head"] == branch and "the versions pip listed in the failing log" in pull.json["body"]
    audit = table.query(keys.audit_pk("default"), "AUDIT#")
    assert {a["rule"] for a in audit} == {"dependency_resolution:move_pin"}
    assert all(a["result"] == "done" for a in audit)


def test_a_pin_the_log_gives_no_versions_for_moves_to_what_pypi_offers_the_runners_python(
    table: StateTable, github: GitHubStandIn, pypi: PyPIStandIn
) -> None:
    pypi.add_project("lightgbm", {"4.3.0": ">=3.7", "4.4.0": ">=3.7", "4.5.0": ">=3.12", "9.0.0rc1": None})
    github.add_repo(REPO, files={"requirements.txt": "lightgbm==4.9.0\npandas==2.2.2\n"})
    diagnosis = {
        "category": "dependency_resolution",
        "kind": "pip-no-matching-distribution",
        "confidence": 0.95,
        "details": {"requirement": "lightgbm==4.9.0", "package": "lightgbm", "python_version": "3.11"},
    }
    add_incident(table, diagnosis)
    outcome = heal(table, github, dry_run=False)
    assert outcome["action"] == "fix_version_pin"
    assert github.file_text(REPO, "requirements.txt", ref="mlops-bot/inc-1") == "lightgbm==4.4.0\npandas==2.2.2\n"
    assert pypi.requests == ["/pypi/lightgbm/json"]


def test_a_pin_move_in_dry_run_records_the_diff_and_writes_nothing(table: StateTable, github: GitHubStandIn) -> None:
    github.add_repo(REPO, files={"requirements.txt": PINNED})
    add_incident(table, diagnosed("pip_no_matching_version.log"))
    outcome = heal(table, github, dry_run=True)
    assert outcome["status"] == "planned"
    assert github.writes() == []
    put = next(c for c in outcome["planned_calls"] if c["method"] == "PUT")
    assert "+torch==2.15.0  # GPU build" in put["details"]["diff"]
    assert {a["result"] for a in table.query(keys.audit_pk("default"), "AUDIT#")} == {"planned"}


def test_a_conflict_between_two_pins_opens_an_issue_naming_both(table: StateTable, github: GitHubStandIn) -> None:
    github.add_repo(REPO, files={"requirements.txt": "pydantic==2.6.4\npydantic-core==2.0.0\n"})
    add_incident(table, diagnosed("pip_resolution_impossible.log"))
    outcome = heal(table, github, dry_run=False)
    assert outcome["action"] == "open_issue"
    assert github.calls_to("POST", r"/pulls$") == []
    [issue] = github.calls_to("POST", rf"^/repos/{REPO}/issues$")
    assert "The user requested pydantic-core==2.0.0" in issue.json["body"]
    assert "depends on pydantic-core" in issue.json["body"]


# --------------------------------------------------------------------------------------------------
# timeout: the job's own timeout-minutes


def job_timeout(minutes: int) -> dict[str, Any]:
    return {
        "category": "timeout",
        "kind": "job-timeout",
        "confidence": 0.95,
        "details": {"limit": f"{minutes} minutes", "limit_seconds": minutes * 60.0},
    }


def test_a_job_that_hit_its_own_timeout_gets_a_pull_request_doubling_it(
    table: StateTable, github: GitHubStandIn
) -> None:
    github.add_repo(REPO, files={".github/workflows/train.yml": TRAIN_WORKFLOW})
    add_incident(table, job_timeout(30))
    outcome = heal(table, github, dry_run=False)
    assert (outcome["status"], outcome["action"]) == ("done", "raise_job_timeout")
    raised = github.file_text(REPO, ".github/workflows/train.yml", ref="mlops-bot/inc-1")
    assert raised == TRAIN_WORKFLOW.replace("timeout-minutes: 30", "timeout-minutes: 60")
    assert "-    timeout-minutes: 30\n+    timeout-minutes: 60\n" in pr_diff(outcome)
    [pull] = github.calls_to("POST", r"/pulls$")
    assert pull.json["title"] == "Raise timeout-minutes of job train from 30 to 60"


def test_a_timeout_raise_in_dry_run_writes_nothing(table: StateTable, github: GitHubStandIn) -> None:
    github.add_repo(REPO, files={".github/workflows/train.yml": TRAIN_WORKFLOW})
    add_incident(table, job_timeout(30))
    outcome = heal(table, github, dry_run=True)
    assert outcome["status"] == "planned" and github.writes() == []
    assert any("+    timeout-minutes: 60" in c.get("details", {}).get("diff", "") for c in outcome["planned_calls"])


def test_a_timeout_no_job_sets_goes_to_an_issue(table: StateTable, github: GitHubStandIn) -> None:
    github.add_repo(REPO, files={".github/workflows/train.yml": TRAIN_WORKFLOW})
    add_incident(table, job_timeout(45))
    outcome = heal(table, github, dry_run=False)
    assert outcome["action"] == "raise_job_timeout" and outcome["status"] == "escalated"
    assert github.calls_to("POST", r"/pulls$") == []
    [issue] = github.calls_to("POST", rf"^/repos/{REPO}/issues$")
    assert "timeout-minutes: 45" in issue.json["body"]


# --------------------------------------------------------------------------------------------------
# A dependency fix follows the file's pinning style; lock files are refreshed or explained


def missing(package: str, module: str, confidence: float = 0.95) -> dict[str, Any]:
    return {
        "category": "dependency_missing",
        "kind": "missing-python-module",
        "confidence": confidence,
        "details": {"module": module, "package": package, "python_version": "3.11"},
    }


def test_a_fully_pinned_file_gets_the_newest_release_for_the_runners_python_and_says_why(
    table: StateTable, github: GitHubStandIn, pypi: PyPIStandIn
) -> None:
    pypi.add_project("scikit-learn", {"1.4.2": ">=3.9", "1.5.2": ">=3.9", "1.7.0": ">=3.12"}, yanked=())
    requirements = "# runtime\nnumpy==1.26.4\npandas==2.2.2\n"
    github.add_repo(REPO, files={"requirements.txt": requirements})
    add_incident(table, missing("scikit-learn", "sklearn"))
    outcome = heal(table, github, dry_run=False)
    assert outcome["action"] == "open_fix_pr"
    fixed = github.file_text(REPO, "requirements.txt", ref="mlops-bot/inc-1")
    assert fixed == requirements + "scikit-learn==1.5.2\n"
    [pull] = github.calls_to("POST", r"/pulls$")
    assert "1.5.2 is the newest release on PyPI" in pull.json["body"] and "Python 3.11" in pull.json["body"]


def test_without_a_python_in_the_diagnosis_the_workflows_setup_python_matrix_decides(
    table: StateTable, github: GitHubStandIn, pypi: PyPIStandIn
) -> None:
    pypi.add_project("scikit-learn", {"1.5.2": ">=3.9", "1.6.1": ">=3.10", "1.7.0": ">=3.11"})
    workflow = (
        "jobs:\n  test:\n    strategy:\n      matrix:\n        python: ['3.10', '3.12']\n    steps:\n"
        "      - uses: actions/setup-python@v5\n        with:\n          python-version: ${{ matrix.python }}\n"
    )
    github.add_repo(REPO, files={"requirements.txt": "numpy==1.26.4\n", ".github/workflows/train.yml": workflow})
    diagnosis = missing("scikit-learn", "sklearn")
    del diagnosis["details"]["python_version"]
    add_incident(table, diagnosis)
    heal(table, github, dry_run=False)
    assert github.file_text(REPO, "requirements.txt", ref="mlops-bot/inc-1") == "numpy==1.26.4\nscikit-learn==1.6.1\n"
    [pull] = github.calls_to("POST", r"/pulls$")
    assert "admits Python 3.10, 3.12" in pull.json["body"]


def test_a_lock_file_beside_the_edit_is_refreshed_by_the_configured_workflow(
    table: StateTable, github: GitHubStandIn, pypi: PyPIStandIn
) -> None:
    pyproject = '[tool.poetry.dependencies]\npython = "^3.11"\npandas = "^2.2"\n'
    github.add_repo(REPO, files={"pyproject.toml": pyproject, "poetry.lock": "# lock\n"})
    table.set_fields(keys.repository_key("default", REPO), {"configuration": {"lock_refresh_workflow": "lock.yml"}})
    add_incident(table, missing("scikit-learn", "sklearn"))
    outcome = heal(table, github, dry_run=False)
    assert outcome["action"] == "open_fix_pr"
    [dispatch] = github.calls_to("POST", r"/actions/workflows/lock\.yml/dispatches$")
    assert dispatch.json["ref"] == "mlops-bot/inc-1"
    [pull] = github.calls_to("POST", r"/pulls$")
    assert "`lock.yml` is dispatched on `mlops-bot/inc-1`" in pull.json["body"]


def test_without_a_refresh_workflow_the_pull_request_names_the_command(
    table: StateTable, github: GitHubStandIn, pypi: PyPIStandIn
) -> None:
    pyproject = '[tool.poetry.dependencies]\npython = "^3.11"\npandas = "^2.2"\n'
    github.add_repo(REPO, files={"pyproject.toml": pyproject, "poetry.lock": "# lock\n"})
    add_incident(table, missing("scikit-learn", "sklearn"))
    heal(table, github, dry_run=False)
    assert github.calls_to("POST", r"/dispatches$") == []
    [pull] = github.calls_to("POST", r"/pulls$")
    assert "`poetry.lock`: run `poetry lock`" in pull.json["body"]


# --------------------------------------------------------------------------------------------------
# How sure it must be


def test_a_diagnosis_below_the_repositorys_threshold_opens_an_issue_not_a_pull_request(
    table: StateTable, github: GitHubStandIn
) -> None:
    github.add_repo(REPO, files={"requirements.txt": "numpy\n"})
    table.set_fields(keys.repository_key("default", REPO), {"configuration": {"detection_sensitivity": "low"}})
    add_incident(table, missing("scikit-learn", "sklearn", confidence=0.85))
    outcome = heal(table, github, dry_run=False)
    assert (outcome["action"], outcome["rule"]) == (
        "open_issue",
        "dependency_missing:missing-python-module:below_threshold",
    )
    assert github.calls_to("POST", r"/pulls$") == [] and github.calls_to("PUT", r"/contents/") == []
    [issue] = github.calls_to("POST", rf"^/repos/{REPO}/issues$")
    assert "0.85" in issue.json["body"] and "low" in issue.json["body"]


# --------------------------------------------------------------------------------------------------
# flaky_test: quarantine by pull request, released when stable

TEST_API = """\
import pytest


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_predict_endpoint(device):
    assert device
"""


def test_flaky_tests_get_the_issue_and_a_quarantine_pull_request_once_reruns_are_spent(
    table: StateTable, github: GitHubStandIn
) -> None:
    github.add_repo(
        REPO, files={"tests/test_api.py": TEST_API, "requirements-dev.txt": "pytest==8.2.0\n", "requirements.txt": ""}
    )
    add_incident(table, diagnosed("pytest_retry_flaky.log"))
    sensitive(table)
    outcome = heal(table, github, dry_run=False, playbook="flaky_test_response", MLOPS_BOT_FLAKY_RERUN_BUDGET=0)
    assert (outcome["status"], outcome["action"], outcome["verify"]) == ("done", "quarantine_flaky_tests", True)
    assert outcome["issue"] is not None
    [issue] = github.calls_to("POST", rf"^/repos/{REPO}/issues$")
    assert issue.json["title"] == f"[mlops-bot] Flaky tests in {REPO}"
    branch = "mlops-bot/inc-1"
    assert github.file_text(REPO, "tests/test_api.py", ref=branch) == TEST_API.replace(
        "@pytest.mark.parametrize", "@pytest.mark.flaky(reruns=3)\n@pytest.mark.parametrize"
    )
    assert github.file_text(REPO, "requirements-dev.txt", ref=branch) == "pytest==8.2.0\npytest-rerunfailures\n"
    [pull] = github.calls_to("POST", r"/pulls$")
    assert pull.json["title"] == "Quarantine flaky tests: test_predict_endpoint"
    assert "+@pytest.mark.flaky(reruns=3)" in pull.json["body"]


def test_a_quarantine_in_dry_run_writes_nothing(table: StateTable, github: GitHubStandIn) -> None:
    github.add_repo(REPO, files={"tests/test_api.py": TEST_API, "requirements-dev.txt": "pytest\n"})
    add_incident(table, diagnosed("pytest_retry_flaky.log"))
    sensitive(table)
    outcome = heal(table, github, dry_run=True, playbook="flaky_test_response", MLOPS_BOT_FLAKY_RERUN_BUDGET=0)
    assert (outcome["status"], outcome["action"]) == ("planned", "quarantine_flaky_tests")
    assert github.writes() == []
    methods = [c["method"] for c in outcome["planned_calls"]]
    assert methods == ["POST", "POST", "PUT", "PUT", "POST"]  # issue, branch, test file, plugin, pull request


def test_stable_tests_are_released_by_pull_request(table: StateTable, github: GitHubStandIn) -> None:
    quarantined = TEST_API.replace("@pytest.mark.parametrize", "@pytest.mark.flaky(reruns=3)\n@pytest.mark.parametrize")
    github.add_repo(REPO, files={"tests/test_api.py": quarantined})
    incident = Incident(
        id="inc-stable",
        tenant_id="default",
        repository=REPO,
        type="flaky_test_stable",
        severity="low",
        description="quarantined tests stable for 14 days",
        detected_at="2026-11-27T10:00:00.000000Z",
        metadata={"tests": ["tests/test_api.py::test_predict_endpoint[cpu]"], "installation_id": 1},
    )
    table.put(incident_item(incident))
    outcome = heal(table, github, dry_run=False, incident_id="inc-stable", playbook="flaky_test_response")
    assert (outcome["status"], outcome["action"]) == ("done", "release_flaky_tests")
    assert github.file_text(REPO, "tests/test_api.py", ref="mlops-bot/inc-stable") == TEST_API


# --------------------------------------------------------------------------------------------------
# The never-harm rules hold for every new repair


@pytest.mark.parametrize(
    ("files", "diagnosis", "action"),
    [
        pytest.param({"requirements.txt": PINNED}, "pip_no_matching_version.log", "fix_version_pin", id="pin"),
        pytest.param({".github/workflows/train.yml": TRAIN_WORKFLOW}, None, "raise_job_timeout", id="timeout"),
    ],
)
def test_the_daily_write_budget_and_the_breaker_stop_the_new_repairs(
    table: StateTable, github: GitHubStandIn, files: dict[str, str], diagnosis: str | None, action: str
) -> None:
    github.add_repo(REPO, files=files)
    add_incident(table, diagnosed(diagnosis) if diagnosis else job_timeout(30))
    refused = heal(table, github, dry_run=False, MLOPS_BOT_MAX_WRITES_PER_REPO_PER_DAY=0)
    assert (refused["status"], refused["rule"]) == ("refused", "write_budget")
    assert github.writes() == []
    for _ in range(3):
        budgets.record_outcome(DynamoRepairBudgetStore(table), Settings(), "default", REPO, healed=False)  # type: ignore[call-arg]
    add_incident(table, diagnosed(diagnosis) if diagnosis else job_timeout(30), incident_id="inc-2")
    deps = action_dependencies(
        Settings(MLOPS_BOT_TABLE_NAME=table.name),  # type: ignore[call-arg]
        table,
        lambda repository, installation: GitHubClient.from_token(TOKEN, github.url),
    )
    planned = plan(deps, PlaybookState(tenant_id="default", incident_id="inc-2", dry_run=False))
    assert (planned["action"], planned["rule"]) == ("none", "circuit_breaker")
    assert github.writes() == []


def test_at_the_default_sensitivity_an_uncertain_flake_gets_an_issue_not_a_quarantine(
    table: StateTable, github: GitHubStandIn
) -> None:
    github.add_repo(REPO, files={"tests/test_api.py": TEST_API})
    add_incident(table, diagnosed("pytest_retry_flaky.log"))
    outcome = heal(table, github, dry_run=False, playbook="flaky_test_response", MLOPS_BOT_FLAKY_RERUN_BUDGET=0)
    assert outcome["action"] == "open_issue"
    assert github.calls_to("POST", r"/pulls$") == []


def test_a_repository_that_uses_the_flaky_package_keeps_its_mechanism(table: StateTable, github: GitHubStandIn) -> None:
    github.add_repo(REPO, files={"tests/test_api.py": TEST_API, "requirements-dev.txt": "flaky==3.8.1\npytest\n"})
    add_incident(table, diagnosed("pytest_retry_flaky.log"))
    sensitive(table)
    outcome = heal(table, github, dry_run=False, playbook="flaky_test_response", MLOPS_BOT_FLAKY_RERUN_BUDGET=0)
    assert outcome["action"] == "quarantine_flaky_tests"
    marked = github.file_text(REPO, "tests/test_api.py", ref="mlops-bot/inc-1")
    assert marked == "from flaky import flaky\n" + TEST_API.replace(
        "@pytest.mark.parametrize", "@flaky(max_runs=4)\n@pytest.mark.parametrize"
    )
    assert github.calls_to("PUT", r"/contents/requirements-dev\.txt$") == []


def test_of_two_jobs_with_the_same_limit_the_run_says_which_one_ran_out_of_time(
    table: StateTable, github: GitHubStandIn
) -> None:
    two = TRAIN_WORKFLOW.replace("jobs:\n", "jobs:\n  lint:\n    runs-on: ubuntu-latest\n    timeout-minutes: 30\n")
    two = two.replace("  train:\n", "  train:\n    name: Train model\n")
    github.add_repo(REPO, files={".github/workflows/train.yml": two})
    github.set_run(
        REPO,
        77,
        path=".github/workflows/train.yml",
        jobs=[{"name": "lint", "conclusion": "success"}, {"name": "Train model (3.11)", "conclusion": "cancelled"}],
    )
    add_incident(table, job_timeout(30))
    outcome = heal(table, github, dry_run=False)
    assert outcome["action"] == "raise_job_timeout" and outcome["status"] == "done"
    raised = github.file_text(REPO, ".github/workflows/train.yml", ref="mlops-bot/inc-1")
    train = "    name: Train model\n    runs-on: ubuntu-latest\n    # the GPU box is slow on Mondays\n"
    assert raised == two.replace(f"{train}    timeout-minutes: 30", f"{train}    timeout-minutes: 60")
