from mlops_bot.repository_config import ConfigProblem, RepositoryFileConfig, merged, parse

VALID = """
auto_fix_enabled: false
notification_channels: [slack]
slack_webhook_url: https://hooks.slack.com/services/T000/B000/XXXX
drift:
  reference: s3://ml-data/churn/reference.parquet
  current: s3://ml-data/churn/current.parquet
  retrain_workflow: retrain.yml
"""


def test_a_valid_file_parses() -> None:
    config = parse(VALID)
    assert isinstance(config, RepositoryFileConfig)
    assert config.drift is not None and config.drift.retrain_workflow == "retrain.yml"


def test_typos_and_bad_values_are_reported_not_ignored() -> None:
    problem = parse("auto_fix_enable: true\nnotification_channels: [pager]\n")
    assert isinstance(problem, ConfigProblem)
    assert any("auto_fix_enable" in e for e in problem.errors)
    assert any("notification_channels" in e for e in problem.errors)
    assert isinstance(parse("drift: [1, 2"), ConfigProblem)
    assert isinstance(parse("- a list"), ConfigProblem)


def test_the_management_api_wins_key_by_key() -> None:
    config = parse(VALID)
    assert isinstance(config, RepositoryFileConfig)
    result = merged(config, {"auto_fix_enabled": True, "drift": {"retrain_workflow": "train.yml"}})
    assert result["auto_fix_enabled"] is True
    assert result["drift"]["retrain_workflow"] == "train.yml"
    assert result["drift"]["reference"] == "s3://ml-data/churn/reference.parquet"
    assert result["notification_channels"] == ["slack"]
