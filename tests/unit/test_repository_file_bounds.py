"""`.github/mlops-bot.yml` is the repository's text: its shape can not cost the bot's functions their time.

YAML aliases let a few hundred bytes stand for billions of values (each `*a` is the whole of
`&a` again); nesting a thousand levels deep exhausts the parser's stack. Either is reported as a
configuration problem, quickly, like any other invalid file.
"""

from __future__ import annotations

import pytest

from mlops_bot.repository_config import ConfigProblem, RepositoryFileConfig, parse


def alias_bomb(levels: int, key: str = "model_thresholds") -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return f"{key}:\n  anchors:\n" + "\n".join("    " + line for line in lines) + "\n  metrics: {}\n"


@pytest.mark.parametrize("levels", [7, 9, 12])
def test_aliases_that_expand_past_the_bound_are_a_configuration_problem(levels: int) -> None:
    problem = parse(alias_bomb(levels))
    assert isinstance(problem, ConfigProblem)
    assert any("too large" in error for error in problem.errors)


@pytest.mark.parametrize("depth", [40, 1_000])
def test_nesting_too_deep_is_a_configuration_problem_not_an_exception(depth: int) -> None:
    problem = parse("drift: " + "[" * depth + "]" * depth)
    assert isinstance(problem, ConfigProblem)
    assert any("nested" in error for error in problem.errors)


def test_an_ordinary_anchor_still_works() -> None:
    config = parse(
        "drift:\n  reference: &ref s3://ml-data/churn/reference.parquet\n  current: *ref\n"
        "notification_channels: [email]\nemail_recipients: [ml-team@example.com]\n"
    )
    assert isinstance(config, RepositoryFileConfig)
    assert config.drift is not None and config.drift.current == config.drift.reference
