"""GitHub timeouts during a repair: reads are retried, a POST whose answer was lost is not repeated.

A module of its own: it starts its own stack (moto's state is process-wide, so it must not share a
module with another stack fixture).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlops_bot.local.stack import LocalStack, StackConfig, free_port
from tests.e2e.test_healing import REQUIREMENTS, ROOT, TOKEN, deliver, run_logs, wait_status
from tests.support.github_standin import GitHubStandIn
from tests.support.pypi_standin import PyPIStandIn


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=(TOKEN,)) as standin:
        yield standin


@pytest.fixture
def pypi() -> Iterator[PyPIStandIn]:
    with PyPIStandIn() as standin:
        standin.add_project("scikit-learn", {"1.6.1": ">=3.9"})
        yield standin


def test_github_timeouts_delay_the_repair_and_a_lost_answer_never_duplicates_the_pull_request(
    github: GitHubStandIn, pypi: PyPIStandIn
) -> None:
    config = StackConfig(
        template_path=ROOT / "template.yaml",
        port=free_port(),
        webhook_secret="heal-secret",
        github_api_url=github.url,
        github_token=TOKEN,
        dry_run=False,
        visibility_timeout=1,
        extra_environment={"MLOPS_BOT_GITHUB_TIMEOUT_SECONDS": "1", "MLOPS_BOT_PYPI_URL": pypi.url},
    )
    repo = "acme/slowpoke"
    github.add_repo(repo, files={"requirements.txt": REQUIREMENTS})
    github.set_run(repo, 9701)
    github.set_run_logs(repo, 9701, run_logs("py_missing_module_sklearn.log"))
    github.slow_next("GET", r"^/repos/acme/slowpoke$", 3)  # a read that times out: retried by the client
    github.slow_next("POST", r"^/repos/acme/slowpoke/pulls$", 3)  # applied, but the answer is lost
    with LocalStack(config) as stack:
        assert deliver(stack, repo, 9701, "failure").status_code == 202
        verifying = wait_status(stack, repo, 9701, "verifying")
    prs = [c for c in github.calls_to("POST", r"^/repos/acme/slowpoke/pulls$") if c.status == 201]
    assert len(prs) == 1  # the step was retried, found the open pull request and updated it instead
    assert len(github.calls_to("POST", r"^/repos/acme/slowpoke/pulls$")) == 1
    assert github.calls_to("PATCH", r"^/repos/acme/slowpoke/pulls/\d+$")
    assert verifying["actions_taken"][-1]["details"]["pull_request"]["branch"] == f"mlops-bot/{verifying['id']}"
