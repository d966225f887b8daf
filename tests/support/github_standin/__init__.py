"""The tests' stand-in GitHub: the server lives in `mlops_bot.local.github_sandbox` (the local stack's
sandbox is built on it); this package keeps the tests' import path and adds the pytest fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlops_bot.local.github_sandbox import *  # noqa: F403 - every public name of the stand-in, as before
from mlops_bot.local.github_sandbox import DEFAULT_TOKEN, GitHubStandIn, make_zip

__all__ = ["DEFAULT_TOKEN", "GitHubStandIn", "github_standin", "make_zip"]


@pytest.fixture
def github_standin() -> Iterator[GitHubStandIn]:
    """A started stand-in accepting the token `test-token`, stopped after the test."""
    with GitHubStandIn() as standin:
        yield standin
