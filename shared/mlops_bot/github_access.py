"""The one place the bot builds its GitHub clients, from whatever credentials the deployment has.

Environment variables win (local stack, tests); in AWS the credentials secret holds either a token
or a GitHub App id and private key. githubkit costs ~100 ms to import, so every builder loads it
when first called, never at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_bot.config import Settings
from mlops_bot.credentials import github_credentials

if TYPE_CHECKING:
    from mlops_bot.adapters.github import GitHubAppDeliveries, GitHubClient


def github_client(
    settings: Settings, repository: str | None = None, installation_id: int | None = None
) -> GitHubClient | None:
    """A client for a repository; None when the bot has no way to talk to GitHub."""
    from mlops_bot.adapters.github import GitHubClient

    found = github_credentials(settings)
    options = {"protected_branches": settings.protected_branches, "timeout": settings.github_timeout_seconds}
    if found.get("token"):
        return GitHubClient.from_token(str(found["token"]), settings.github_api_url, **options)  # type: ignore[arg-type]
    if found.get("app_id") and found.get("private_key"):
        app_id, key = str(found["app_id"]), str(found["private_key"])
        if installation_id is None:
            if repository is None:
                return None
            installation_id = GitHubClient.installation_id_for_repo(app_id, key, repository, settings.github_api_url)
        return GitHubClient.from_app(app_id, key, installation_id, settings.github_api_url, **options)  # type: ignore[arg-type]
    return None


def quota_reader(settings: Settings, *, timeout: float) -> tuple[GitHubClient, bool]:
    """A client for reading the REST quota, and whether it is authenticated.

    The bot's token when it has one (its quota is what the healer spends), else anonymous (an App's
    quota is per installation, and a health check has no repository to pick one). One attempt and
    a short timeout: a health check answers quickly or reports GitHub unhealthy.
    """
    from githubkit import UnauthAuthStrategy

    from mlops_bot.adapters.github import GitHubClient

    token = github_credentials(settings).get("token")
    if token:
        return GitHubClient.from_token(str(token), settings.github_api_url, max_attempts=1, timeout=timeout), True
    return GitHubClient(UnauthAuthStrategy(), settings.github_api_url, max_attempts=1, timeout=timeout), False


def app_deliveries(settings: Settings) -> GitHubAppDeliveries | None:
    """The App's own webhook deliveries (App JWT); None without GitHub App credentials."""
    from mlops_bot.adapters.github import GitHubAppDeliveries

    found = github_credentials(settings)
    if not (found.get("app_id") and found.get("private_key")):
        return None
    return GitHubAppDeliveries(str(found["app_id"]), str(found["private_key"]), settings.github_api_url)


def user_client(settings: Settings, user_token: str) -> GitHubClient:
    """A client acting as a GitHub user, with a token the caller handed in (used for one answer, never stored).

    One attempt: a claim GitHub did not answer proves nothing, and the caller can simply ask again.
    """
    from mlops_bot.adapters.github import GitHubClient

    return GitHubClient.from_token(
        user_token, settings.github_api_url, max_attempts=1, timeout=settings.github_timeout_seconds
    )
