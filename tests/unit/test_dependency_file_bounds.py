"""A repository's YAML files (workflows, environment.yml) are read by the repairs: their shape is bounded.

Aliases can make a few hundred bytes stand for billions of values, which the repairs' comparisons
expand; a few hundred levels of nesting exhaust the YAML parser's stack. Either file is treated as
one the bot cannot edit (no edit, no exception), the same as a file that is not YAML.
"""

from __future__ import annotations

import pytest

from mlops_bot.healing.dependency_files import add_dependency, declared_packages
from mlops_bot.healing.dependency_files.workflow import jobs_with_timeout, python_versions, raise_job_timeout

JOB = "jobs:\n  test:\n    runs-on: ubuntu-latest\n    timeout-minutes: 10\n    steps:\n      - run: pytest\n"


def alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "x-anchors:\n" + "\n".join("  " + line for line in lines) + "\n"


def deep(depth: int) -> str:
    return "x-deep: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize("shape", [alias_bomb(9), deep(40), deep(400)], ids=["alias bomb", "40 levels", "400 levels"])
def test_a_workflow_of_hostile_shape_gets_no_edit_and_raises_nothing(shape: str) -> None:
    content = shape + "on: push\n" + JOB
    assert raise_job_timeout(".github/workflows/ci.yml", content, minutes=10, raise_to=20) is None
    assert jobs_with_timeout(content, 10) == []
    assert python_versions(content) == []


@pytest.mark.parametrize("shape", [alias_bomb(9), deep(40), deep(400)], ids=["alias bomb", "40 levels", "400 levels"])
def test_an_environment_file_of_hostile_shape_gets_no_edit_and_raises_nothing(shape: str) -> None:
    content = shape + "dependencies:\n  - python=3.11\n  - numpy\n"
    assert add_dependency("environment.yml", content, "pandas") is None
    assert declared_packages("environment.yml", content) == frozenset()


def test_an_ordinary_workflow_is_still_edited() -> None:
    edit = raise_job_timeout(".github/workflows/ci.yml", "on: push\n" + JOB, minutes=10, raise_to=20)
    assert edit is not None and "timeout-minutes: 20" in edit.new_content


DEEP_TOML = '[project]\nname = "x"\ndependencies = []\n[tool.x]\ndeep = ' + "[" * 5_000 + "]" * 5_000 + "\n"
DEEP_JSON = '{"dependencies": {}, "x": ' + "[" * 5_000 + "]" * 5_000 + "}"


@pytest.mark.parametrize(("path", "content"), [("pyproject.toml", DEEP_TOML), ("package.json", DEEP_JSON)])
def test_a_toml_or_json_file_nested_past_the_parsers_stack_gets_no_edit_and_raises_nothing(
    path: str, content: str
) -> None:
    assert declared_packages(path, content) == frozenset()
    assert add_dependency(path, content, "pandas") is None
