"""A GitHub client for a repository, from whatever credentials the deployment has.

Environment variables win (local stack, tests); in AWS the credentials secret holds either a token
or a GitHub App id and private key. Returns None when the bot has no way to talk to GitHub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_bot.config import Settings
from mlops_bot.credentials import github_credentials

if TYPE_CHECKING:
    from mlops_bot.adapters.github import GitHubClient


def github_client(
    settings: Settings, repository: str | None = None, installation_id: int | None = None
) -> GitHubClient | None:
    from mlops_bot.adapters.github import GitHubClient  # githubkit costs ~100 ms: load it when first needed

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
