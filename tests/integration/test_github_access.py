"""The clients `github_access` builds, against the stand-in GitHub: the quota reader and a user's client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlops_bot.adapters.github import GitHubError
from mlops_bot.config import Settings
from mlops_bot.github_access import quota_reader, user_client
from tests.support.github_standin import GitHubStandIn


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=("t0k",)) as standin:
        yield standin


def settings(github: GitHubStandIn, **values: str) -> Settings:
    return Settings.model_validate({"GITHUB_API_URL": github.url, "MLOPS_BOT_GITHUB_SECRET_NAME": "", **values})


def test_the_quota_reader_uses_the_bots_token_once_without_retrying(github: GitHubStandIn) -> None:
    client, authenticated = quota_reader(settings(github, GITHUB_TOKEN="t0k"), timeout=3)

    assert authenticated and client.rate_limit().remaining == 4999
    github.fail_next("GET", r"^/rate_limit$", 502)
    with pytest.raises(GitHubError) as failed:
        client.rate_limit()
    assert failed.value.status == 502
    assert [c.status for c in github.calls_to("GET", r"^/rate_limit$")] == [200, 502]


def test_without_a_token_the_quota_reader_is_anonymous(github: GitHubStandIn) -> None:
    client, authenticated = quota_reader(settings(github), timeout=3)

    assert not authenticated
    with pytest.raises(GitHubError):  # the stand-in, unlike GitHub, answers nobody anonymous
        client.rate_limit()
    [call] = github.calls_to("GET", r"^/rate_limit$")
    assert "authorization" not in call.headers


def test_a_users_installations_are_read_across_pages(github: GitHubStandIn) -> None:
    github.add_user("ghu_dana", "dana", list(range(1, 151)))

    found = user_client(settings(github), "ghu_dana").user_installation_ids()

    assert found == set(range(1, 151))
    assert len(github.calls_to("GET", r"^/user/installations$")) == 2


def test_a_token_github_does_not_know_is_refused(github: GitHubStandIn) -> None:
    with pytest.raises(GitHubError) as refused:
        user_client(settings(github), "ghu_nobody").user_installation_ids()

    assert refused.value.status == 401
