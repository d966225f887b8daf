"""`.github/mlops-bot.yml` is the other document that sets the bot's destinations: same rules as the API."""

from __future__ import annotations

import pytest

from mlops_bot.repository_config import ConfigProblem, RepositoryFileConfig, parse


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://hooks.slack.com@10.0.0.8/services/T/B/X",
        "https://[::1]/services/T/B/X",
        "https://0x7f000001/services/T/B/X",
        "https://hooks.slack.com.evil.example/x",
    ],
)
def test_a_files_slack_url_that_is_not_slacks_is_a_configuration_problem(url: str) -> None:
    problem = parse(f"notification_channels: [slack]\nslack_webhook_url: '{url}'\n")
    assert isinstance(problem, ConfigProblem)
    assert any(error.startswith("slack_webhook_url") for error in problem.errors)


def test_a_files_recipient_list_hidden_in_one_entry_is_a_configuration_problem() -> None:
    problem = parse('notification_channels: [email]\nemail_recipients: ["a@example.com, b@example.com"]\n')
    assert isinstance(problem, ConfigProblem)
    assert any(error.startswith("email_recipients") for error in problem.errors)


def test_a_files_slack_url_and_addresses_are_kept() -> None:
    config = parse(
        "notification_channels: [slack, email]\n"
        "slack_webhook_url: https://hooks.slack.com/services/T000/B000/XXXX\n"
        "email_recipients: [ml-team@example.com]\n"
    )
    assert isinstance(config, RepositoryFileConfig)
    assert config.slack_webhook_url == "https://hooks.slack.com/services/T000/B000/XXXX"
