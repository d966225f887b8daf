"""Healing on the local stack against the stand-in GitHub: real HTTP, real state machines.

The issue's bar: a missing module gets exactly one correct fix PR; a transient failure exactly one
re-run (also when the webhook is redelivered); a green run on the fix branch resolves the incident;
a failing one ends it as failed, without a loop.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.local.stack import LocalStack, StackConfig, free_port
from mlops_bot.storage import keys
from tests.e2e.conftest import eventually
from tests.support.github_standin import GitHubStandIn
from tests.support.pypi_standin import PyPIStandIn
from tests.support.webhooks import post_webhook, workflow_run

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "tests" / "data" / "logs"
TOKEN = "ghs_e2e-healing-token"
REQUIREMENTS = "# runtime\nnumpy==1.26.4\npandas==2.2.2\n"


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=(TOKEN,)) as standin:
        yield standin


@pytest.fixture(scope="module")
def pypi() -> Iterator[PyPIStandIn]:
    with PyPIStandIn() as standin:
        standin.add_project("scikit-learn", {"1.5.2": ">=3.9", "1.6.1": ">=3.9"})
        yield standin


@pytest.fixture(scope="module")
def stack(github: GitHubStandIn, pypi: PyPIStandIn) -> Iterator[LocalStack]:
    config = StackConfig(
        extra_environment={"MLOPS_BOT_PYPI_URL": pypi.url},
        template_path=ROOT / "template.yaml",
        port=free_port(),
        webhook_secret="heal-secret",
        github_api_url=github.url,
        github_token=TOKEN,
        dry_run=False,
        visibility_timeout=1,
    )
    with LocalStack(config) as running:
        yield running


def run_logs(log_file: str) -> dict[str, str]:
    """A run-logs zip in GitHub's layout: the job log, and the failing step's file."""
    text = (LOGS / log_file).read_text()
    return {"0_test.txt": text, "test/3_Run tests.txt": text}


def deliver(
    stack: LocalStack,
    repository: str,
    run_id: int,
    conclusion: str,
    *,
    branch: str = "main",
    attempt: int = 1,
    delivery: str | None = None,
) -> httpx.Response:
    payload = workflow_run(run_id, repository, conclusion, branch=branch, attempt=attempt, installation_id=1)
    return post_webhook(stack, payload, delivery=delivery)


def incident(stack: LocalStack, repository: str, run_id: int) -> dict[str, Any] | None:
    return StateTable(stack.table_name()).get(
        keys.incident_key("default", keys.incident_id_for_run(repository, run_id))
    )


def wait_status(stack: LocalStack, repository: str, run_id: int, *statuses: str) -> dict[str, Any]:
    return eventually(
        lambda: (found := incident(stack, repository, run_id)) and found.get("status") in statuses and found, timeout=60
    )


def executions(stack: LocalStack, incident_id: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    found = []
    for machine in sfn.list_state_machines()["stateMachines"]:
        found += [
            e
            for e in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
            if e["name"].startswith(incident_id)
        ]
    return found


def test_missing_module_gets_one_fix_pr_and_a_green_run_resolves_it(stack: LocalStack, github: GitHubStandIn) -> None:
    repo = "acme/churn-model"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS, "src/train.py": "import sklearn\n"})
    github.set_run(repo, 9101)
    github.set_run_logs(repo, 9101, run_logs("py_missing_module_sklearn.log"))
    delivery = str(uuid.uuid4())
    assert deliver(stack, repo, 9101, "failure", delivery=delivery).status_code == 202
    verifying = wait_status(stack, repo, 9101, "verifying")
    assert deliver(stack, repo, 9101, "failure", delivery=delivery).status_code == 200  # GitHub redelivers

    branch = f"mlops-bot/{verifying['id']}"
    pulls = github.calls_to("POST", rf"/repos/{repo}/pulls$")
    assert len(pulls) == 1
    assert pulls[0].json["head"] == branch and pulls[0].json["base"] == "main"
    fixed = github.file_text(repo, "requirements.txt", ref=branch)
    assert fixed == REQUIREMENTS + "scikit-learn==1.6.1\n"  # the file pins everything: so does the fix
    assert github.file_text(repo, "requirements.txt") == REQUIREMENTS  # default branch untouched
    assert verifying["diagnosis"]["details"]["package"] == "scikit-learn"
    action = verifying["actions_taken"][-1]
    assert action["action"] == "open_fix_pr"
    assert action["details"]["pull_request"]["branch"] == branch
    assert action["details"]["changes_made"][0]["path"] == "requirements.txt"

    github.set_run(repo, 9102, conclusion="success", head_branch=branch)
    assert deliver(stack, repo, 9102, "success", branch=branch).status_code == 202
    resolved = wait_status(stack, repo, 9101, "resolved")
    assert resolved["resolution_time"] is not None
    assert [t["event"] for t in resolved["timeline"]][-1] == "issue_resolved"
    assert [
        e["status"]
        for e in eventually(lambda: [e for e in executions(stack, resolved["id"]) if e["status"] != "RUNNING"])
    ] == ["SUCCEEDED"]
    assert not any(c.path.endswith("/merge") for c in github.writes())
    audit = StateTable(stack.table_name()).query(keys.audit_pk("default"), "AUDIT#")
    mine = [a for a in audit if a["incident_id"] == resolved["id"]]
    assert {a["method"] for a in mine} >= {"POST", "PUT"} and all(a["result"] == "done" for a in mine)


def test_transient_failure_gets_exactly_one_rerun_and_a_red_rerun_fails_it(
    stack: LocalStack, github: GitHubStandIn
) -> None:
    repo = "acme/flows"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS})
    github.set_run(repo, 9201)
    github.set_run_logs(repo, 9201, run_logs("pip_index_unreachable.log"))
    delivery = str(uuid.uuid4())
    assert deliver(stack, repo, 9201, "failure", delivery=delivery).status_code == 202
    assert deliver(stack, repo, 9201, "failure", delivery=delivery).status_code == 200
    wait_status(stack, repo, 9201, "verifying")
    assert len(github.calls_to("POST", r"/actions/runs/9201/rerun-failed-jobs$")) == 1

    # The re-run fails again with the same problem: stop, as failed, with no second re-run.
    assert deliver(stack, repo, 9201, "failure", attempt=2).status_code == 202
    failed = wait_status(stack, repo, 9201, "failed")
    assert failed["timeline"][-1]["event"] == "issue_failed"
    assert len(github.calls_to("POST", r"/actions/runs/9201/rerun-failed-jobs$")) == 1
    assert eventually(lambda: [e["status"] for e in executions(stack, failed["id"]) if e["status"] != "RUNNING"]) == [
        "FAILED"
    ]


def test_a_red_run_on_the_fix_branch_with_the_same_problem_ends_as_failed(
    stack: LocalStack, github: GitHubStandIn
) -> None:
    repo = "acme/vision"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS})
    github.set_run(repo, 9301)
    github.set_run_logs(repo, 9301, run_logs("py_missing_module_sklearn.log"))
    assert deliver(stack, repo, 9301, "failure").status_code == 202
    verifying = wait_status(stack, repo, 9301, "verifying")
    branch = f"mlops-bot/{verifying['id']}"
    github.set_run(repo, 9302, head_branch=branch)
    github.set_run_logs(repo, 9302, run_logs("py_missing_module_sklearn.log"))
    assert deliver(stack, repo, 9302, "failure", branch=branch).status_code == 202
    failed = wait_status(stack, repo, 9301, "failed")
    assert "same problem" in failed["timeline"][-1]["details"]
    assert len(github.calls_to("POST", r"/repos/acme/vision/pulls$")) == 1
    assert incident(stack, repo, 9302) is None  # the bot's own branch never opens an incident


def test_an_unfixable_failure_files_one_issue_with_the_evidence(stack: LocalStack, github: GitHubStandIn) -> None:
    repo = "acme/forecast"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS})
    github.set_run(repo, 9401)
    github.set_run_logs(repo, 9401, run_logs("pytest_assertion.log"))
    assert deliver(stack, repo, 9401, "failure").status_code == 202
    escalated = wait_status(stack, repo, 9401, "escalated")
    [issue] = github.calls_to("POST", r"/repos/acme/forecast/issues$")
    assert escalated["id"] in issue.json["title"]
    assert "Evidence" in issue.json["body"]
    assert github.calls_to("POST", r"/repos/acme/forecast/pulls$") == []


def test_github_rate_limits_and_5xx_delay_the_repair_but_never_duplicate_it(
    stack: LocalStack, github: GitHubStandIn
) -> None:
    repo = "acme/throttled"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS})
    github.set_run(repo, 9501)
    github.set_run_logs(repo, 9501, run_logs("py_missing_module_sklearn.log"))
    github.fail_next("POST", r"^/repos/acme/throttled/pulls$", 429, headers={"Retry-After": "1"})
    github.fail_next("PUT", r"^/repos/acme/throttled/contents/", 502)
    assert deliver(stack, repo, 9501, "failure").status_code == 202
    verifying = wait_status(stack, repo, 9501, "verifying")
    created = [c for c in github.calls_to("POST", r"^/repos/acme/throttled/pulls$") if c.status == 201]
    assert len(created) == 1
    assert len(github.calls_to("POST", r"^/repos/acme/throttled/pulls$")) == 2  # the 429, then the real one
    assert len([c for c in github.calls_to("POST", r"^/repos/acme/throttled/git/refs$") if c.status == 201]) == 1
    assert "scikit-learn" in (github.file_text(repo, "requirements.txt", ref=f"mlops-bot/{verifying['id']}") or "")


def test_dry_run_repository_gets_a_recorded_plan_and_no_write(stack: LocalStack, github: GitHubStandIn) -> None:
    repo = "acme/careful"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS})
    github.set_run(repo, 9601)
    # The first run only enrolls the repository; a failure with no file-changing repair, so that its
    # repair (made for real when it is planned before the switch below) claims nothing 9602 would follow.
    github.set_run_logs(repo, 9601, run_logs("pytest_assertion.log"))
    table = StateTable(stack.table_name())
    assert deliver(stack, repo, 9601, "failure").status_code == 202
    eventually(lambda: table.get(keys.repository_key("default", repo)))
    # auto_fix_enabled false on the repository: the plan is recorded, nothing is written
    table.set_fields(keys.repository_key("default", repo), {"configuration": {"auto_fix_enabled": False}})
    github.set_run(repo, 9602)
    github.set_run_logs(repo, 9602, run_logs("py_missing_module_sklearn.log"))
    writes_before = len([c for c in github.writes() if "/acme/careful/" in c.path])
    assert deliver(stack, repo, 9602, "failure").status_code == 202
    planned = wait_status(stack, repo, 9602, "planned")
    calls = planned["actions_taken"][-1]["details"]["planned_calls"]
    assert [c["method"] for c in calls] == ["POST", "PUT", "POST"]  # branch, file (with its diff), pull request
    assert "+scikit-learn" in calls[1]["details"]["diff"]
    assert len([c for c in github.writes() if "/acme/careful/" in c.path]) == writes_before


def test_a_new_problem_after_a_fix_gets_one_more_round_on_the_same_pull_request(
    stack: LocalStack, github: GitHubStandIn
) -> None:
    repo = "acme/twosteps"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS})
    github.set_run(repo, 9801)
    github.set_run_logs(repo, 9801, run_logs("py_missing_module_sklearn.log"))
    assert deliver(stack, repo, 9801, "failure").status_code == 202
    first = wait_status(stack, repo, 9801, "verifying")
    branch = f"mlops-bot/{first['id']}"
    # The fix worked, but the run on the fix branch now trips over the next missing module.
    github.set_run(repo, 9802, head_branch=branch)
    github.set_run_logs(repo, 9802, run_logs("py_missing_module_cv2_pytest.log"))
    assert deliver(stack, repo, 9802, "failure", branch=branch).status_code == 202
    second = eventually(
        lambda: (
            (found := incident(stack, repo, 9801))
            and found.get("attempts") == 2
            and found.get("status") == "verifying"
            and found
        ),
        timeout=60,
    )
    fixed = github.file_text(repo, "requirements.txt", ref=branch) or ""
    assert "scikit-learn" in fixed and "opencv-python" in fixed
    assert len(github.calls_to("POST", r"^/repos/acme/twosteps/pulls$")) == 1  # the same PR, updated
    assert second["diagnosis"]["details"]["package"] == "opencv-python"
    github.set_run(repo, 9803, conclusion="success", head_branch=branch)
    assert deliver(stack, repo, 9803, "success", branch=branch).status_code == 202
    assert wait_status(stack, repo, 9801, "resolved")["attempts"] == 2
