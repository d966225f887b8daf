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


def test_a_repository_enrolled_with_defaults_keeps_the_files_own_settings() -> None:
    """Enrolment stores no API setting, so `.github/mlops-bot.yml` decides until the API sets one."""
    from mlops_bot.stores.repositories import InMemoryRepositoryStore, RepositoryConfiguration
    from mlops_bot.tenancy.service import enroll_repository

    store = InMemoryRepositoryStore()
    enroll_repository(store, "default", "acme/model", source="test")
    stored = store.get("default", "acme/model")
    assert stored is not None
    api_config = stored.configuration.model_dump(mode="json", exclude_none=True)
    file_config = parse("auto_fix_enabled: false\ndetection_sensitivity: high\nnotification_channels: [email]\n")
    assert isinstance(file_config, RepositoryFileConfig)

    effective = merged(file_config, api_config)

    assert effective["detection_sensitivity"] == "high"
    assert effective["auto_fix_enabled"] is False
    assert effective["notification_channels"] == ["email"]
    # Set through the management API, a value wins over the file.
    api_set = RepositoryConfiguration(detection_sensitivity="low").model_dump(mode="json", exclude_none=True)
    assert merged(file_config, api_set)["detection_sensitivity"] == "low"


def test_workflow_names_in_the_file_are_file_names_or_ids() -> None:
    # They become a URL segment of GitHub's API (`/actions/workflows/{workflow}/dispatches`).
    for good in ("retrain.yml", "train-model.yaml", "1234"):
        parsed = parse(f"drift:\n  retrain_workflow: '{good}'\nlock_refresh_workflow: '{good}'\n")
        assert isinstance(parsed, RepositoryFileConfig), parsed
    for bad in ("../../../../user/repos", ".github/workflows/retrain.yml", "..", "a b.yml"):
        assert isinstance(parse(f"drift:\n  retrain_workflow: '{bad}'\n"), ConfigProblem), bad
        assert isinstance(parse(f"lock_refresh_workflow: '{bad}'\n"), ConfigProblem), bad
