"""One repair per problem on the local stack: webhooks in, real state machines, the stand-in GitHub.

A maintainer who gave the bot write access gets one pull request for one problem, however many
runs fail with it (the next push before the fix is merged, a scheduled run), and never again a
pull request they closed unmerged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
TOKEN = "ghs_e2e-one-repair"
REQUIREMENTS = "pandas\n"


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=(TOKEN,)) as standin:
        yield standin


@pytest.fixture(scope="module")
def stack(github: GitHubStandIn) -> Iterator[LocalStack]:
    with PyPIStandIn() as pypi:
        config = StackConfig(
            extra_environment={"MLOPS_BOT_PYPI_URL": pypi.url},
            template_path=ROOT / "template.yaml",
            port=free_port(),
            webhook_secret="one-repair-secret",
            github_api_url=github.url,
            github_token=TOKEN,
            dry_run=False,
            visibility_timeout=1,
        )
        with LocalStack(config) as running:
            yield running


def fail(stack: LocalStack, github: GitHubStandIn, repository: str, run_id: int, *, sha: str) -> None:
    """A run fails on `sha` with `ModuleNotFoundError: No module named 'sklearn'`; GitHub says so."""
    text = (LOGS / "py_missing_module_sklearn.log").read_text()
    github.set_run(repository, run_id)
    github.set_run_logs(repository, run_id, {"0_test.txt": text, "test/3_Run tests.txt": text})
    payload = workflow_run(run_id, repository, "failure", head_sha=sha, installation_id=1)
    assert post_webhook(stack, payload).status_code == 202


def incident(stack: LocalStack, repository: str, run_id: int) -> dict[str, Any] | None:
    return StateTable(stack.table_name()).get(
        keys.incident_key("default", keys.incident_id_for_run(repository, run_id))
    )


def settled(stack: LocalStack, repository: str, run_id: int, *statuses: str) -> dict[str, Any]:
    return eventually(
        lambda: (found := incident(stack, repository, run_id)) and found.get("status") in statuses and found, timeout=60
    )


def pulls_opened(github: GitHubStandIn, repository: str) -> list[Any]:
    return [c for c in github.calls_to("POST", rf"^/repos/{repository}/pulls$") if c.status == 201]


def test_two_runs_failing_the_same_way_get_one_pull_request_and_share_its_verdict(
    stack: LocalStack, github: GitHubStandIn
) -> None:
    repo = "acme/one-fix"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS})
    fail(stack, github, repo, 9701, sha="a1" * 20)
    first = settled(stack, repo, 9701, "verifying")
    fail(stack, github, repo, 9702, sha="b2" * 20)  # the next push, before the fix is merged
    second = settled(stack, repo, 9702, "linked")

    assert len(pulls_opened(github, repo)) == 1
    assert github.branch_sha(repo, f"mlops-bot/{second['id']}") is None
    same = [t for t in second["timeline"] if t["event"] == "same_problem"]
    assert same and first["id"] in same[0]["details"] and "#1" in same[0]["details"]
    assert eventually(lambda: (found := incident(stack, repo, 9701)) and found["occurrences"] == 2 and found)

    branch = f"mlops-bot/{first['id']}"
    github.set_run(repo, 9703, conclusion="success", head_branch=branch)
    payload = workflow_run(9703, repo, "success", branch=branch, installation_id=1)
    assert post_webhook(stack, payload).status_code == 202
    settled(stack, repo, 9701, "resolved")
    resolved = settled(stack, repo, 9702, "resolved")
    assert first["id"] in resolved["timeline"][-1]["details"]
    assert len(pulls_opened(github, repo)) == 1


def test_a_fix_the_maintainer_closed_unmerged_is_not_proposed_again(stack: LocalStack, github: GitHubStandIn) -> None:
    repo = "acme/rejected-fix"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS})
    fail(stack, github, repo, 9711, sha="c3" * 20)
    settled(stack, repo, 9711, "verifying")
    [number] = github.repo_state(repo).pulls
    github.close_pull(repo, number)

    fail(stack, github, repo, 9712, sha="d4" * 20)
    settled(stack, repo, 9712, "escalated")
    fail(stack, github, repo, 9713, sha="e5" * 20)
    settled(stack, repo, 9713, "escalated")
    assert len(pulls_opened(github, repo)) == 1
    [issue] = github.calls_to("POST", rf"^/repos/{repo}/issues$")  # one issue, not one per run
    assert "closed without merging" in issue.json["body"]
    assert github.calls_to("POST", rf"^/repos/{repo}/issues/\d+/comments$") == []


def test_two_runs_healed_at_the_same_time_get_one_pull_request(stack: LocalStack, github: GitHubStandIn) -> None:
    repo = "acme/racing-fix"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS})
    fail(stack, github, repo, 9721, sha="f6" * 20)
    fail(stack, github, repo, 9722, sha="a7" * 20)
    outcomes = {settled(stack, repo, run, "verifying", "linked")["status"] for run in (9721, 9722)}
    assert outcomes == {"verifying", "linked"}
    assert len(pulls_opened(github, repo)) == 1
