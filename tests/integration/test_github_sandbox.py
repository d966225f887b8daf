"""The GitHub sandbox of the local stack, driven through the bot's own GitHub adapter over HTTP.

Each demo repository's run logs are served the way GitHub serves them (302 to a zip of `N_job.txt`
and `job/N_step.txt`, ISO-timestamped lines) and diagnose as the failure its playbook handles; the
sandbox plays CI for what the bot starts; its state survives `save` and `load`.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mlops_bot.adapters.github import GitHubClient
from mlops_bot.detection.run_logs import diagnose_run
from mlops_bot.local.sandbox import DEMO_REPOSITORIES, GitHubSandbox

TOKEN = "ghs_sandbox-test"
ISO_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z ")


@pytest.fixture
def sandbox() -> Iterator[GitHubSandbox]:
    sandbox = GitHubSandbox(TOKEN)
    sandbox.start()
    sandbox.seed()
    yield sandbox
    sandbox.stop()


def test_run_logs_redirect_to_a_zip_in_githubs_layout(sandbox: GitHubSandbox) -> None:
    url = f"{sandbox.url}/repos/acme-ml/churn-model/actions/runs/9187349201/logs"
    answer = httpx.get(url, headers={"authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 302
    archive = zipfile.ZipFile(io.BytesIO(httpx.get(answer.headers["location"]).content))
    names = archive.namelist()
    assert names[0] == "1_test.txt"
    assert all(re.fullmatch(r"test/\d+_[^/]+\.txt", name) for name in names[1:])
    lines = archive.read("1_test.txt").decode().splitlines()
    assert lines and all(ISO_LINE.match(line) for line in lines)
    assert httpx.get(url).status_code == 401  # no token, no logs


@pytest.mark.parametrize(
    ("repository", "category"),
    [
        ("acme-ml/churn-model", "dependency_missing"),
        ("acme-ml/feature-store", "network_transient"),
        ("acme-ml/fraud-detector", "flaky_test"),
    ],
)
def test_each_demo_failure_diagnoses_as_its_playbook_expects(
    sandbox: GitHubSandbox, repository: str, category: str
) -> None:
    demo = next(d for d in DEMO_REPOSITORIES if d.full_name == repository)
    assert demo.run_id is not None
    problem = diagnose_run(GitHubClient.from_token(TOKEN, sandbox.url), repository, demo.run_id)
    assert problem.category == category
    assert sandbox.logs_downloaded(repository, demo.run_id)


def test_demo_repositories_hold_real_project_files(sandbox: GitHubSandbox) -> None:
    client = GitHubClient.from_token(TOKEN, sandbox.url)
    for demo in DEMO_REPOSITORIES:
        for path in ("requirements.txt", "pyproject.toml", ".github/workflows/ci.yml"):
            found = client.get_file(demo.full_name, path)
            assert found is not None and found.text == demo.files[path], (demo.full_name, path)
        assert any(path.startswith("tests/test_") for path in demo.files)


def test_ci_is_played_for_the_bots_branches_and_reruns(sandbox: GitHubSandbox) -> None:
    client = GitHubClient.from_token(TOKEN, sandbox.url)
    main = client.get_branch_sha("acme-ml/churn-model", "main")
    assert main is not None
    client.create_branch("acme-ml/churn-model", "mlops-bot/inc-1", main)
    client.rerun_failed_jobs("acme-ml/feature-store", 9187350412)
    payloads = sandbox.finish_pending_runs()
    runs = {(p["repository"]["full_name"], p["workflow_run"]["head_branch"]): p["workflow_run"] for p in payloads}
    assert runs[("acme-ml/feature-store", "main")]["run_attempt"] == 2
    assert runs[("acme-ml/churn-model", "mlops-bot/inc-1")]["head_sha"] == main
    assert {run["conclusion"] for run in runs.values()} == {"success"}
    assert sandbox.finish_pending_runs() == []  # each run is played once


def test_the_sandbox_survives_save_and_load(sandbox: GitHubSandbox, tmp_path: Path) -> None:
    client = GitHubClient.from_token(TOKEN, sandbox.url)
    main = client.get_branch_sha("acme-ml/churn-model", "main")
    assert main is not None
    client.create_branch("acme-ml/churn-model", "mlops-bot/inc-2", main)
    client.create_issue("acme-ml/fraud-detector", "Flaky tests", "test_batch_latency_budget")
    sandbox.save(tmp_path / "sandbox.pickle")
    restored = GitHubSandbox(TOKEN)
    assert restored.load(tmp_path / "sandbox.pickle")
    restored.start()
    try:
        restored.seed()  # leaves the restored repositories as they are
        assert restored.branch_sha("acme-ml/churn-model", "mlops-bot/inc-2") == main
        assert [i["title"] for i in restored.activity()["issues"]] == ["Flaky tests"]
    finally:
        restored.stop()
