"""GitHub's own rules for `owner/name`, the one place a repository name is judged.

A repository name becomes part of DynamoDB keys, log lines, URLs of GitHub API calls and the
dashboard, so a name GitHub itself would refuse (`../../x`, an empty owner, a control character,
`#`, which would split a key) is refused wherever it comes in: at the webhook (400) and on the
management API (422). Pure standard library and pydantic: the ingress imports it.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

# Users and organisations: 1-39 characters, letters, digits and hyphens, not starting with one.
OWNER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$"
# Repositories: 1-100 characters of letters, digits, `.`, `_`, `-`; never `.` or `..`.
NAME_PATTERN = r"^[A-Za-z0-9._-]{1,100}$"
MAX_FULL_NAME = 39 + 1 + 100

_OWNER = re.compile(OWNER_PATTERN)
_NAME = re.compile(NAME_PATTERN)


def owner_problem(owner: str) -> str | None:
    if not _OWNER.fullmatch(owner):
        return "an owner is 1-39 letters, digits or hyphens, not starting with a hyphen"
    return None


def name_problem(name: str) -> str | None:
    if not _NAME.fullmatch(name) or name in {".", ".."}:
        return "a repository name is 1-100 letters, digits, '.', '_' or '-', and not '.' or '..'"
    return None


def full_name_problem(full_name: str) -> str | None:
    """Why `full_name` is not a GitHub `owner/name`, or None when it is one."""
    owner, slash, name = full_name.partition("/")
    if not slash:
        return "a repository is named 'owner/name'"
    return owner_problem(owner) or name_problem(name)


def check_full_name(full_name: str) -> str:
    problem = full_name_problem(full_name)
    if problem:
        raise ValueError(problem)
    return full_name


# For pydantic fields: `full_name: RepositoryFullName`.
RepositoryFullName = Annotated[str, StringConstraints(max_length=MAX_FULL_NAME), AfterValidator(check_full_name)]
