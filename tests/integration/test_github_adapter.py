"""The GitHub adapter against the stand-in server, over real HTTP.

These pin what goes over the wire: auth headers, JWTs, base64 bodies, redirects, retries, rate-limit
translation, and above all that refused branch writes never reach GitHub.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mlops_bot.adapters.github import (
    GitHubClient,
    GitHubConflict,
    GitHubError,
    GitHubNotFound,
    GitHubRateLimited,
    LogsUnavailable,
    ProtectedBranchError,
    resolve_api_url,
)
from mlops_bot.config import Settings
from mlops_bot.github_access import github_client
from tests.support.github_standin import GitHubStandIn

REPO = "acme/models"
TOKEN = "test-token"
APP_ID = 4242
INSTALLATION_ID = 77


@pytest.fixture
def gh() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=(TOKEN,)) as standin:
        standin.add_repo(
            REPO,
            files={"requirements.txt": "numpy==1.26\n", "src/train.py": "print('train')\n"},
            protected=["main", "release/*"],
            installation_id=INSTALLATION_ID,
        )
        yield standin


@pytest.fixture
def client(gh: GitHubStandIn) -> GitHubClient:
    return GitHubClient.from_token(TOKEN, gh.url, retry_base_delay=0.01)


@pytest.fixture(scope="module")
def app_key() -> tuple[str, str]:
    """An RSA key pair like a GitHub App's: (private PEM for the bot, public PEM for GitHub)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


# --- auth


def test_token_auth_sends_the_token_and_reads_the_repository(gh: GitHubStandIn, client: GitHubClient) -> None:
    repo = client.get_repository(REPO)

    assert (repo.full_name, repo.default_branch, repo.private) == (REPO, "main", True)
    (call,) = gh.calls_to("GET", rf"^/repos/{REPO}$")
    assert call.headers["authorization"] == f"token {TOKEN}"
    assert call.headers["user-agent"] == "mlops-bot"


def test_a_wrong_token_is_a_401_error(gh: GitHubStandIn) -> None:
    client = GitHubClient.from_token("nope", gh.url, retry_base_delay=0.01)

    with pytest.raises(GitHubError) as info:
        client.get_repository(REPO)

    assert info.value.status == 401
    assert len(gh.calls) == 1  # 4xx are not retried


def test_app_auth_signs_an_rs256_jwt_and_caches_the_installation_token(
    gh: GitHubStandIn, app_key: tuple[str, str]
) -> None:
    private, public = app_key
    gh.configure_app(APP_ID, public)
    client = GitHubClient.from_app(APP_ID, private, INSTALLATION_ID, gh.url)

    client.get_repository(REPO)
    client.get_file(REPO, "requirements.txt")
    # A second client of the same process (a warm Lambda) reuses the token too.
    GitHubClient.from_app(APP_ID, private, INSTALLATION_ID, gh.url).get_repository(REPO)

    (mint,) = gh.calls_to("POST", rf"^/app/installations/{INSTALLATION_ID}/access_tokens$")
    scheme, _, token = mint.headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, public, algorithms=["RS256"])
    assert str(claims["iss"]) == str(APP_ID)
    (issued,) = gh.issued_tokens
    api_calls = [c for c in gh.calls if c.path.startswith("/repos/")]
    assert len(api_calls) == 3
    assert {c.headers["authorization"] for c in api_calls} == {f"token {issued}"}


def test_app_auth_mints_a_new_token_once_the_cached_one_expires(app_key: tuple[str, str]) -> None:
    private, public = app_key
    # githubkit keeps a token until a minute before `expires_at`: 62 s of life is ~2 s of cache.
    with GitHubStandIn(app_id=APP_ID, app_public_key=public, token_lifetime=timedelta(seconds=62)) as gh:
        gh.add_repo(REPO, installation_id=INSTALLATION_ID)
        client = GitHubClient.from_app(APP_ID, private, INSTALLATION_ID, gh.url)
        client.get_repository(REPO)
        time.sleep(2.5)
        client.get_repository(REPO)

        assert len(gh.calls_to("POST", r"/access_tokens$")) == 2


def test_a_jwt_from_another_key_is_rejected(gh: GitHubStandIn, app_key: tuple[str, str]) -> None:
    _, public = app_key
    gh.configure_app(APP_ID, public)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()

    with pytest.raises(GitHubError) as info:
        GitHubClient.from_app(APP_ID, wrong_pem, INSTALLATION_ID, gh.url).get_repository(REPO)

    assert info.value.status == 401
    assert not gh.issued_tokens


def test_installation_lookup_and_the_client_built_from_settings(gh: GitHubStandIn, app_key: tuple[str, str]) -> None:
    private, public = app_key
    gh.configure_app(APP_ID, public)

    assert GitHubClient.installation_id_for_repo(APP_ID, private, REPO, gh.url) == INSTALLATION_ID

    settings = Settings.model_validate(
        {"GITHUB_API_URL": gh.url, "GITHUB_APP_ID": str(APP_ID), "GITHUB_APP_PRIVATE_KEY": private}
    )
    app_client = github_client(settings, repository=REPO)
    assert app_client is not None and app_client.get_repository(REPO).default_branch == "main"
    assert github_client(settings) is None  # an App client needs an installation or a repository

    token_settings = Settings.model_validate({"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": TOKEN})
    token_client = github_client(token_settings)
    assert token_client is not None and token_client.get_repository(REPO).id > 0


def test_api_url_follows_github_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example/api/v3/")
    assert resolve_api_url() == "https://ghe.example/api/v3"
    assert resolve_api_url("http://127.0.0.1:9") == "http://127.0.0.1:9"
    monkeypatch.delenv("GITHUB_API_URL")
    assert resolve_api_url() == "https://api.github.com"


# --- contents & branches


def test_file_round_trip_through_base64(gh: GitHubStandIn, client: GitHubClient) -> None:
    base_sha = client.get_branch_sha(REPO, "main")
    assert base_sha == gh.branch_sha(REPO, "main")
    client.create_branch(REPO, "mlops-bot/fix-numpy", base_sha)

    original = client.get_file(REPO, "requirements.txt")
    assert original is not None
    assert original.text == "numpy==1.26\n"
    # Long, multi-line and non-ASCII: GitHub wraps base64 at 60 columns; é and ✓ are multi-byte.
    new_text = "numpy==2.4.6  # résolu ✓\n" + "".join(f"package-{i}==1.0.{i}\n" for i in range(40))
    commit = client.put_file(REPO, "requirements.txt", new_text, "Pin numpy", "mlops-bot/fix-numpy", sha=original.sha)

    assert gh.file_text(REPO, "requirements.txt", "mlops-bot/fix-numpy") == new_text
    assert gh.file_text(REPO, "requirements.txt") == "numpy==1.26\n"  # default branch untouched
    updated = client.get_file(REPO, "requirements.txt", ref="mlops-bot/fix-numpy")
    assert updated is not None
    assert (updated.text, updated.sha) == (new_text, commit.content_sha)
    assert commit.commit_sha == gh.branch_sha(REPO, "mlops-bot/fix-numpy")
    (put,) = gh.calls_to("PUT", r"/contents/requirements.txt$")
    assert put.json["branch"] == "mlops-bot/fix-numpy"
    assert put.json["sha"] == original.sha


def test_new_file_stale_sha_and_missing_files(gh: GitHubStandIn, client: GitHubClient) -> None:
    client.create_branch(REPO, "mlops-bot/new", gh.branch_sha(REPO, "main") or "")
    created = client.put_file(REPO, "configs/bot.yaml", b"enabled: true\n", "Add config", "mlops-bot/new")
    assert gh.file_text(REPO, "configs/bot.yaml", "mlops-bot/new") == "enabled: true\n"

    with pytest.raises(GitHubConflict):
        client.put_file(REPO, "configs/bot.yaml", "x\n", "Stale", "mlops-bot/new", sha="0" * 40)

    assert client.get_file(REPO, "nope.txt") is None
    assert client.get_file(REPO, "src") is None  # a directory is not a file
    found = client.find_file(REPO, ["pyproject.toml", "configs/bot.yaml"], ref="mlops-bot/new")
    assert found is not None
    assert (found.path, found.sha) == ("configs/bot.yaml", created.content_sha)
    assert client.find_file(REPO, ["pyproject.toml", "setup.py"]) is None
    assert client.get_branch_sha(REPO, "mlops-bot/absent") is None


def test_update_ref_never_forces(gh: GitHubStandIn, client: GitHubClient) -> None:
    main_sha = gh.branch_sha(REPO, "main") or ""
    client.create_branch(REPO, "mlops-bot/a", main_sha)
    commit = client.put_file(REPO, "a.txt", "a\n", "A", "mlops-bot/a")
    client.create_branch(REPO, "mlops-bot/b", main_sha)

    client.update_ref(REPO, "mlops-bot/b", commit.commit_sha)  # a fast-forward
    assert gh.branch_sha(REPO, "mlops-bot/b") == commit.commit_sha
    with pytest.raises(GitHubError) as info:
        client.update_ref(REPO, "mlops-bot/a", main_sha)  # would rewind: needs force, which we never send

    assert info.value.status == 422
    assert gh.branch_sha(REPO, "mlops-bot/a") == commit.commit_sha
    assert [u["force"] for u in gh.ref_updates] == [False, False]


@pytest.mark.parametrize(
    ("branch", "reason"),
    [
        ("main", "only writes to branches under"),  # the default branch
        ("release/2.0", "only writes to branches under"),
        ("feature/x", "only writes to branches under"),
        ("refs/heads/main", "only writes to branches under"),
        ("mlops-bot/../main", "not a valid branch name"),
        ("mlops-bot/", "not a valid branch name"),
    ],
)
def test_branch_writes_outside_the_bot_namespace_are_refused_before_sending(
    gh: GitHubStandIn, client: GitHubClient, branch: str, reason: str
) -> None:
    sha = gh.branch_sha(REPO, "main") or ""

    writes: list[Callable[[], object]] = [
        lambda: client.create_branch(REPO, branch, sha),
        lambda: client.put_file(REPO, "requirements.txt", "x\n", "msg", branch, sha="1" * 40),
        lambda: client.update_ref(REPO, branch, sha),
    ]
    for write in writes:
        with pytest.raises(ProtectedBranchError, match=reason):
            write()

    assert gh.writes() == []


def test_protected_patterns_and_the_default_branch_are_refused(gh: GitHubStandIn) -> None:
    # A repository whose default branch is (oddly) inside the bot namespace, and a client that also
    # protects a bot sub-namespace: both refusals must hold on their own.
    gh.add_repo("acme/odd", default_branch="mlops-bot/trunk")
    client = GitHubClient.from_token(TOKEN, gh.url, protected_branches=["main", "mlops-bot/keep/*"])
    sha = gh.branch_sha("acme/odd", "mlops-bot/trunk") or ""

    with pytest.raises(ProtectedBranchError, match="default branch"):
        client.put_file("acme/odd", "x.txt", "x\n", "msg", "mlops-bot/trunk")
    with pytest.raises(ProtectedBranchError, match="protected pattern"):
        client.create_branch("acme/odd", "mlops-bot/keep/this", sha)
    with pytest.raises(ProtectedBranchError, match="pull requests must come from"):
        client.create_pull_request("acme/odd", "release/1.0", "main", "t", "b")

    assert gh.writes() == []


def test_there_is_no_way_to_merge() -> None:
    assert not [name for name in dir(GitHubClient) if "merge" in name.lower()]


# --- pull requests & issues


def test_pull_request_create_find_update(gh: GitHubStandIn, client: GitHubClient) -> None:
    client.create_branch(REPO, "mlops-bot/fix", gh.branch_sha(REPO, "main") or "")
    assert client.find_open_pull_request(REPO, "mlops-bot/fix") is None

    pr = client.create_pull_request(REPO, "mlops-bot/fix", "main", "Fix numpy", "Body")
    assert (pr.number, pr.head, pr.base, pr.state) == (1, "mlops-bot/fix", "main", "open")
    assert pr.html_url.endswith(f"/{REPO}/pull/1")

    found = client.find_open_pull_request(REPO, "mlops-bot/fix")
    assert found is not None
    assert found.number == pr.number
    (listing,) = gh.calls_to("GET", r"/pulls$")[-1:]
    assert listing.query["head"] == "acme:mlops-bot/fix"
    assert listing.query["state"] == "open"

    updated = client.update_pull_request(REPO, pr.number, body="New body")
    assert (updated.body, updated.title) == ("New body", "Fix numpy")
    (patch,) = gh.calls_to("PATCH", r"/pulls/1$")
    assert patch.json == {"body": "New body"}  # unset fields are not sent as null
    client.update_pull_request(REPO, pr.number, state="closed")
    assert client.find_open_pull_request(REPO, "mlops-bot/fix") is None


def test_issues_create_find_update_comment(gh: GitHubStandIn, client: GitHubClient) -> None:
    client.create_branch(REPO, "mlops-bot/pr", gh.branch_sha(REPO, "main") or "")
    client.create_pull_request(REPO, "mlops-bot/pr", "main", "[mlops-bot] a PR", "b")
    gh.repo_state(REPO).pulls[1]["labels"] = ["mlops-bot"]  # a labelled PR must not count as an issue
    other = client.create_issue(REPO, "Unrelated", "b", labels=["mlops-bot"])
    issue = client.create_issue(REPO, "[mlops-bot] Drift on model A", "Details", labels=["mlops-bot", "drift"])

    found = client.find_open_issue(REPO, "mlops-bot", title_prefix="[mlops-bot]")
    assert found is not None
    assert (found.number, found.labels, found.is_pull_request) == (
        issue.number,
        ["mlops-bot", "drift"],
        False,
    )
    newest = client.find_open_issue(REPO, "mlops-bot")
    assert newest is not None
    assert newest.number == issue.number
    assert client.find_open_issue(REPO, "absent-label") is None

    comment = client.comment_issue(REPO, issue.number, "Still drifting")
    assert comment.body == "Still drifting"
    assert gh.repo_state(REPO).comments[issue.number][0]["body"] == "Still drifting"

    closed = client.update_issue(REPO, issue.number, state="closed", labels=["mlops-bot", "resolved"])
    assert (closed.state, closed.labels) == ("closed", ["mlops-bot", "resolved"])
    remaining = client.find_open_issue(REPO, "mlops-bot")
    assert remaining is not None
    assert remaining.number == other.number


# --- actions


def test_rerun_get_run_and_jobs(gh: GitHubStandIn, client: GitHubClient) -> None:
    steps = [{"name": "pytest", "number": 3, "status": "completed", "conclusion": "failure"}]
    gh.set_run(REPO, 555, jobs=[{"name": "test", "steps": steps}, {"name": "lint", "conclusion": "success"}])

    with client:  # one connection pool for the burst
        run = client.get_workflow_run(REPO, 555)
        jobs = client.list_run_jobs(REPO, 555)
    assert (run.id, run.conclusion, run.run_attempt, run.head_branch) == (555, "failure", 1, "main")
    assert [(j.name, j.conclusion) for j in jobs] == [("test", "failure"), ("lint", "success")]
    assert jobs[0].steps[0].name == "pytest"

    client.rerun_failed_jobs(REPO, 555)
    assert gh.reruns == [(REPO, 555)]
    assert client.get_workflow_run(REPO, 555).run_attempt == 2
    with pytest.raises(GitHubNotFound):
        client.get_workflow_run(REPO, 999)


def test_logs_redirect_is_followed_and_streamed_without_credentials(
    gh: GitHubStandIn, client: GitHubClient, tmp_path: Path
) -> None:
    gh.set_run(REPO, 7)
    gh.set_run_logs(REPO, 7, {"test/3_pytest.txt": "E   ImportError: numpy\n", "lint/1_ruff.txt": "ok\n"})

    dest = tmp_path / "logs.zip"
    assert client.download_run_logs(REPO, 7, dest) is True

    with zipfile.ZipFile(dest) as archive:
        assert archive.read("test/3_pytest.txt") == b"E   ImportError: numpy\n"
    assert not (tmp_path / "logs.zip.part").exists()
    (api,) = gh.calls_to("GET", r"/actions/runs/7/logs$")
    assert api.status == 302
    assert api.headers["authorization"] == f"token {TOKEN}"
    (blob,) = gh.calls_to("GET", r"^/_blobs/")
    assert blob.headers["host"].startswith("localhost:")  # another host than the API's 127.0.0.1
    assert "authorization" not in blob.headers


def test_logs_to_an_open_file_and_same_origin_storage(client: GitHubClient) -> None:
    with GitHubStandIn(tokens=(TOKEN,), logs_host="127.0.0.1") as gh:
        gh.add_repo(REPO)
        gh.set_run(REPO, 8)
        gh.set_run_logs(REPO, 8, b"raw-zip-bytes")
        same_host = GitHubClient.from_token(TOKEN, gh.url)
        buffer = io.BytesIO()

        assert same_host.download_run_logs(REPO, 8, buffer) is True

        assert buffer.getvalue() == b"raw-zip-bytes"
        (blob,) = gh.calls_to("GET", r"^/_blobs/")
        assert blob.headers["authorization"] == f"token {TOKEN}"  # same origin: like httpx would


@pytest.mark.parametrize("status", [404, 410])
def test_expired_logs_raise_logs_unavailable(
    gh: GitHubStandIn, client: GitHubClient, tmp_path: Path, status: int
) -> None:
    gh.set_run(REPO, 9)
    gh.set_run_logs(REPO, 9, status)
    dest = tmp_path / "logs.zip"

    with pytest.raises(LogsUnavailable) as info:
        client.download_run_logs(REPO, 9, dest)

    assert info.value.status == status
    assert client.download_run_logs(REPO, 9, dest, missing_ok=True) is False
    assert list(tmp_path.iterdir()) == []  # no empty or partial archive left behind


def test_large_logs_are_streamed_not_buffered(gh: GitHubStandIn, client: GitHubClient, tmp_path: Path) -> None:
    payload = bytes(range(256)) * (64 * 1024)  # 16 MiB served as the raw archive
    gh.set_run(REPO, 10)
    gh.set_run_logs(REPO, 10, payload)
    dest = tmp_path / "big.zip"

    tracemalloc.start()
    try:
        client.download_run_logs(REPO, 10, dest)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert dest.stat().st_size == len(payload)
    assert peak < len(payload) // 4, f"peak {peak} bytes for an {len(payload)}-byte archive"


def test_dispatch_and_deployments(gh: GitHubStandIn, client: GitHubClient) -> None:
    client.dispatch_workflow(REPO, "retrain.yml", "main", {"model": "churn", "reason": "drift"})
    assert gh.repo_state(REPO).dispatches == [
        {"workflow_id": "retrain.yml", "ref": "main", "inputs": {"model": "churn", "reason": "drift"}}
    ]

    deployment = client.create_deployment(REPO, "main", "staging", "Model v2", {"model_version": "2"})
    assert (deployment.environment, deployment.payload) == ("staging", {"model_version": "2"})
    assert gh.repo_state(REPO).deployments[deployment.id]["auto_merge"] is False
    status = client.create_deployment_status(REPO, deployment.id, "success", environment_url="https://m")
    assert status.state == "success"
    client.create_deployment(REPO, "main", "production")

    staging = client.list_deployments(REPO, environment="staging")
    assert [d.id for d in staging] == [deployment.id]
    assert len(client.list_deployments(REPO)) == 2


def test_rate_limit_endpoint(client: GitHubClient) -> None:
    info = client.rate_limit()
    assert (info.limit, info.remaining) == (5000, 4999)


# --- failures


def test_server_errors_are_retried_then_succeed(gh: GitHubStandIn, client: GitHubClient) -> None:
    gh.fail_next("GET", rf"^/repos/{REPO}$", 502, times=2)

    assert client.get_repository(REPO).default_branch == "main"

    assert [c.status for c in gh.calls_to("GET", rf"^/repos/{REPO}$")] == [502, 502, 200]


def test_server_errors_give_up_after_three_attempts(gh: GitHubStandIn, client: GitHubClient) -> None:
    gh.fail_next("GET", rf"^/repos/{REPO}/issues$", 503, times=5)

    with pytest.raises(GitHubError) as info:
        client.find_open_issue(REPO, "mlops-bot")

    assert info.value.status == 503
    assert len(gh.calls_to("GET", rf"^/repos/{REPO}/issues$")) == 3


def test_token_minting_errors_are_retried_and_translated(gh: GitHubStandIn, app_key: tuple[str, str]) -> None:
    private, public = app_key
    gh.configure_app(APP_ID, public)
    gh.fail_next("POST", r"/access_tokens$", 502)
    client = GitHubClient.from_app(APP_ID, private, INSTALLATION_ID, gh.url, retry_base_delay=0.01)

    assert client.get_repository(REPO).full_name == REPO
    assert [c.status for c in gh.calls_to("POST", r"/access_tokens$")] == [502, 201]
    gh.expire_installation_tokens()
    # The cached token is now refused by the server: a plain 401, not retried.
    with pytest.raises(GitHubError) as info:
        client.get_repository(REPO)
    assert info.value.status == 401


def test_429_with_retry_after_is_raised_not_slept(gh: GitHubStandIn, client: GitHubClient) -> None:
    gh.fail_next("POST", r"/pulls$", 429, headers={"Retry-After": "30"})
    client.create_branch(REPO, "mlops-bot/x", gh.branch_sha(REPO, "main") or "")

    started = time.monotonic()
    with pytest.raises(GitHubRateLimited) as info:
        client.create_pull_request(REPO, "mlops-bot/x", "main", "t", "b")

    assert time.monotonic() - started < 5
    assert (info.value.status, info.value.retry_after_seconds) == (429, 30.0)
    assert len(gh.calls_to("POST", r"/pulls$")) == 1


def test_403_primary_rate_limit_carries_the_reset(gh: GitHubStandIn, client: GitHubClient) -> None:
    reset = int(time.time()) + 120
    gh.fail_next(
        "GET",
        r"/contents/",
        403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        body={"message": "API rate limit exceeded"},
    )

    with pytest.raises(GitHubRateLimited) as info:
        client.get_file(REPO, "requirements.txt")

    assert info.value.status == 403
    assert 100 <= info.value.retry_after_seconds <= 121
    assert "rate limit" in info.value.message


def test_403_without_rate_limit_headers_is_a_plain_error(gh: GitHubStandIn, client: GitHubClient) -> None:
    gh.fail_next("GET", rf"^/repos/{REPO}$", 403, body={"message": "Resource not accessible by integration"})

    with pytest.raises(GitHubError) as info:
        client.get_repository(REPO)

    assert not isinstance(info.value, GitHubRateLimited)
    assert (info.value.status, info.value.message) == (403, "Resource not accessible by integration")


# --- enterprise


def test_enterprise_base_url_with_a_path_prefix(tmp_path: Path, app_key: tuple[str, str]) -> None:
    private, public = app_key
    with GitHubStandIn(tokens=(TOKEN,), prefix="/api/v3", app_id=APP_ID, app_public_key=public) as gh:
        gh.add_repo(REPO, installation_id=INSTALLATION_ID)
        gh.set_run(REPO, 11)
        gh.set_run_logs(REPO, 11, {"job.txt": "log\n"})
        assert gh.url.endswith("/api/v3")
        client = GitHubClient.from_token(TOKEN, gh.url + "/", api_version="2022-11-28")

        assert client.get_repository(REPO).default_branch == "main"
        assert client.download_run_logs(REPO, 11, tmp_path / "l.zip")
        app_client = GitHubClient.from_app(APP_ID, private, INSTALLATION_ID, gh.url)
        assert app_client.get_file(REPO, "missing.txt") is None

        api_calls = [c for c in gh.calls if not c.raw_path.startswith("/_blobs/")]
        assert all(c.raw_path.startswith("/api/v3/") for c in api_calls)
        assert all(c.status != 404 or c.path.endswith("missing.txt") for c in api_calls)
        first = gh.calls_to("GET", rf"^/repos/{REPO}$")[0]
        assert first.headers["x-github-api-version"] == "2022-11-28"
        assert gh.calls_to("POST", r"^/app/installations/\d+/access_tokens$")


def test_a_5xx_on_a_post_is_not_blindly_retried(gh: GitHubStandIn, client: GitHubClient) -> None:
    """A POST answered 502 may still have been applied: the adapter leaves the retry to the caller,
    whose step re-checks (find the open issue or PR) before writing again."""
    gh.fail_next("POST", rf"^/repos/{REPO}/issues$", 502)
    with pytest.raises(GitHubError) as failure:
        client.create_issue(REPO, "CI broke", "details")
    assert failure.value.status == 502
    assert len(gh.calls_to("POST", rf"^/repos/{REPO}/issues$")) == 1


def _new_app_key() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_a_rotated_app_key_takes_effect_at_once(gh: GitHubStandIn) -> None:
    """An operator replaces the App's private key (the old one is deleted at GitHub): the next
    client signs with the new key, not with a JWT the process cached from the old one."""
    from mlops_bot.adapters.github import GitHubAppDeliveries

    old_private, old_public = _new_app_key()
    gh.configure_app(APP_ID, old_public)
    assert GitHubAppDeliveries(APP_ID, old_private, gh.url).list_deliveries() == []
    assert GitHubClient.installation_id_for_repo(APP_ID, old_private, REPO, gh.url) == INSTALLATION_ID

    new_private, new_public = _new_app_key()
    gh.configure_app(APP_ID, new_public)
    assert GitHubAppDeliveries(APP_ID, new_private, gh.url).list_deliveries() == []
    assert GitHubClient.installation_id_for_repo(APP_ID, new_private, REPO, gh.url) == INSTALLATION_ID
    client = GitHubClient.from_app(APP_ID, new_private, INSTALLATION_ID, gh.url)
    assert client.get_repository(REPO).full_name == REPO


# --- path parameters from untrusted text (a tenant's setting, a manual heal, a CI log)

UNSAFE_SEGMENTS = ["../../../../user/repos", "..", ".", "retrain.yml/../../x", "a#b", "a?b=1", "a%2F..", "a\nb", ""]


@pytest.mark.parametrize("workflow", UNSAFE_SEGMENTS)
def test_a_workflow_name_cannot_walk_out_of_its_url(gh: GitHubStandIn, client: GitHubClient, workflow: str) -> None:
    # githubkit puts path parameters into the URL as given, and the URL's dot segments are then
    # resolved: `../../../../user/repos` would make the dispatch a POST to another endpoint.
    with pytest.raises(ValueError):
        client.dispatch_workflow(REPO, workflow, "main")
    assert gh.writes() == []


@pytest.mark.parametrize(
    "path", ["../../pulls", "src/../../../issues", "./requirements.txt", "src//train.py", "src/..", "a\x00b", "a\nb"]
)
def test_a_file_path_cannot_walk_out_of_the_contents_url(gh: GitHubStandIn, client: GitHubClient, path: str) -> None:
    with pytest.raises(ValueError):
        client.get_file(REPO, path, ref="main")
    with pytest.raises(ValueError):
        client.put_file(REPO, path, "x", "message", "mlops-bot/inc-1", None)
    assert gh.writes() == []


def test_ordinary_names_still_reach_github(gh: GitHubStandIn, client: GitHubClient) -> None:
    assert client.get_file(REPO, "src/train.py", ref="main") is not None
    for quoted in ("docs/no such file.md", "a#b", "a?x=1", "a%2F.."):  # quoted into one segment, not refused
        assert client.get_file(REPO, quoted, ref="main") is None
    assert [c.raw_path.split("/contents/")[1] for c in gh.calls_to("GET", r"/contents/")][1:] == [
        "docs/no%20such%20file.md",
        "a%23b",
        "a%3Fx%3D1",
        "a%252F..",
    ]
    client.dispatch_workflow(REPO, "retrain.yml", "main")
    client.dispatch_workflow(REPO, 1234, "main")
    assert [c.path for c in gh.calls_to("POST", r"/dispatches$")] == [
        f"/repos/{REPO}/actions/workflows/retrain.yml/dispatches",
        f"/repos/{REPO}/actions/workflows/1234/dispatches",
    ]
