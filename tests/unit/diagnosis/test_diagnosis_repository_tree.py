"""The detector reads the repository's tree once per commit and never proposes its own modules as packages.

Driven over real HTTP against the loopback GitHub stand-in (Git Trees API, contents, run logs).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlops_bot.adapters.github import GitHubClient
from mlops_bot.detection import run_logs
from mlops_bot.detection.run_logs import diagnose_run, repository_local_names
from tests.support.github_standin import GitHubStandIn

TOKEN = "test-token"
REPO = "acme/models"

FAILING_STEP = "\n".join(
    [
        "2024-01-15T10:20:30.0000000Z ##[group]Run python -m ourpkg.train",
        "2024-01-15T10:20:30.0001000Z ##[endgroup]",
        "2024-01-15T10:20:31.0000000Z Traceback (most recent call last):",
        '2024-01-15T10:20:31.0001000Z   File "/usr/lib/python3.11/runpy.py", line 198',
        "2024-01-15T10:20:31.0002000Z ModuleNotFoundError: No module named 'ourpkg'",
        "2024-01-15T10:20:31.0003000Z ##[error]Process completed with exit code 1.",
    ]
)


@pytest.fixture
def gh() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=(TOKEN,)) as standin:
        yield standin


@pytest.fixture(autouse=True)
def _empty_tree_cache() -> None:
    run_logs._tree_cache.clear()


def _client(gh: GitHubStandIn) -> GitHubClient:
    return GitHubClient.from_token(TOKEN, gh.url, retry_base_delay=0.01)


def test_repository_tree_returns_githubs_fields_for_the_whole_tree(gh: GitHubStandIn) -> None:
    sha = gh.add_repo(REPO, files={"src/ourpkg/__init__.py": "", "README.md": "# x\n"})

    tree = _client(gh).repository_tree(REPO, sha)

    assert tree.sha == sha and tree.truncated is False
    assert tree.paths == ["README.md", "src/ourpkg/__init__.py"]
    assert {(e.path, e.type) for e in tree.tree} >= {("src", "tree"), ("src/ourpkg", "tree")}
    assert gh.calls_to("GET", rf"/repos/{REPO}/git/trees/{sha}")[0].query == {"recursive": "1"}


def test_local_names_are_read_once_per_commit(gh: GitHubStandIn) -> None:
    sha = gh.add_repo(
        REPO, files={"ourpkg/__init__.py": "", "utils.py": "", "pyproject.toml": '[project]\nname = "our-dist"\n'}
    )
    client = _client(gh)

    first = repository_local_names(client, REPO, sha)
    second = repository_local_names(client, REPO, sha)

    assert first == second
    assert {"ourpkg", "utils", "our-dist", "our_dist"} <= first
    assert len(gh.calls_to("GET", rf"/repos/{REPO}/git/trees/")) == 1


def test_a_failed_run_missing_the_repositorys_own_package_gets_no_package(gh: GitHubStandIn) -> None:
    sha = gh.add_repo(REPO, files={"src/ourpkg/__init__.py": "", "requirements.txt": "numpy\n"})
    gh.set_run(REPO, 7, head_sha=sha)
    gh.set_run_logs(REPO, 7, {"0_build.txt": FAILING_STEP, "build/2_Train.txt": FAILING_STEP})

    problem = diagnose_run(_client(gh), REPO, 7)

    assert (problem.kind, problem.details["package"], problem.details["local"]) == ("missing-local-module", None, True)
    assert gh.writes() == []


def test_without_the_tree_a_missing_module_is_never_sure_enough_to_write(gh: GitHubStandIn) -> None:
    sha = gh.add_repo(REPO, files={"requirements.txt": "numpy\n"})
    gh.set_run(REPO, 8, head_sha=sha)
    step = FAILING_STEP.replace("'ourpkg'", "'sklearn'")
    gh.set_run_logs(REPO, 8, {"0_build.txt": step, "build/2_Train.txt": step})
    gh.fail_next("GET", rf"/repos/{REPO}/git/trees/", 500, times=10)

    problem = diagnose_run(_client(gh), REPO, 8)

    assert problem.details["package"] == "scikit-learn"
    assert "local_names_unavailable" in problem.details
    assert problem.confidence <= 0.5
