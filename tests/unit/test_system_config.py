"""The system configuration service on the in-memory stores: what a change does, and what it refuses."""

from __future__ import annotations

import pytest

from mlops_bot.errors import ValidationFailed
from mlops_bot.management.platform import system_config as service
from mlops_bot.stores.repositories import InMemoryRepositoryStore, Repository, RepositoryConfiguration
from mlops_bot.stores.system_config import InMemorySystemConfigStore

DEFAULT_RATE_LIMIT = 250
GITHUB = service.GitHubIntegration(enabled=True, dry_run=False, rate_limit_remaining=None)


def _shown(store: InMemorySystemConfigStore) -> service.SystemConfig:
    return service.view(service.load(store, DEFAULT_RATE_LIMIT), "test", GITHUB, max_file_size_mb=6)


def _update(store: InMemorySystemConfigStore, **changes: object) -> service.ConfigUpdated:
    return service.update(
        store, service.ConfigUpdate.model_validate(changes), DEFAULT_RATE_LIMIT, "key-operator", _shown(store)
    )


def test_without_a_stored_configuration_the_deployments_rate_limit_applies() -> None:
    store = InMemorySystemConfigStore()
    assert service.load(store, DEFAULT_RATE_LIMIT).limits.rate_limit_per_minute == DEFAULT_RATE_LIMIT
    assert service.current(store, DEFAULT_RATE_LIMIT).features.advanced_analytics is True


def test_a_stored_rate_limit_replaces_the_deployments_and_applies_at_once_in_this_process() -> None:
    store = InMemorySystemConfigStore()
    assert service.current(store, DEFAULT_RATE_LIMIT).limits.rate_limit_per_minute == DEFAULT_RATE_LIMIT
    updated = _update(store, limits={"rate_limit_per_minute": 42})
    assert updated.restart_required is False
    assert service.current(store, DEFAULT_RATE_LIMIT).limits.rate_limit_per_minute == 42
    assert service.load(store, DEFAULT_RATE_LIMIT).updated_at == updated.updated_at


def test_a_change_keeps_every_other_setting() -> None:
    store = InMemorySystemConfigStore()
    _update(store, integrations={"slack": {"enabled": False}})
    _update(store, features={"advanced_analytics": False})
    stored = service.load(store, DEFAULT_RATE_LIMIT)
    assert stored.integrations.slack.enabled is False
    assert stored.integrations.email.enabled is True
    assert stored.features.advanced_analytics is False
    kept = store.get()
    assert kept is not None and kept.updated_by == "key-operator"


def test_a_switched_off_channel_is_dropped_from_every_repositorys_notifications() -> None:
    store = InMemorySystemConfigStore()
    _update(store, integrations={"email": {"enabled": False}})
    repository = {"notification_channels": ["slack", "email"], "slack_webhook_url": "https://hooks.slack.com/x"}
    changed = service.with_integrations(repository, service.current(store))
    assert changed["notification_channels"] == ["slack"]
    assert repository["notification_channels"] == ["slack", "email"]  # the repository's own setting is kept


@pytest.mark.parametrize(
    "changes",
    [
        {"features": {"auto_scaling": False}},
        {"features": {"predictive_scaling": True}},
        {"limits": {"max_concurrent_executions": 10}},
        {"limits": {"max_file_size_mb": 20}},
        {"integrations": {"slack": {"channels_configured": 3}}},
    ],
)
def test_a_key_that_only_describes_the_platform_is_refused_and_nothing_is_stored(changes: dict[str, object]) -> None:
    store = InMemorySystemConfigStore()
    with pytest.raises(ValidationFailed) as refused:
        _update(store, **changes)
    assert "cannot be changed" in str(refused.value.details)
    assert store.get() is None


def test_repeating_a_shown_platform_value_is_accepted() -> None:
    store = InMemorySystemConfigStore()
    _update(store, features={"auto_scaling": True}, limits={"max_file_size_mb": 6})
    assert service.load(store, DEFAULT_RATE_LIMIT).features.auto_scaling is True


def test_an_empty_change_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        _update(InMemorySystemConfigStore(), features={})


def test_slack_channels_count_the_tenants_repositories_that_can_send_to_slack() -> None:
    repositories = InMemoryRepositoryStore()
    settings = {
        "acme/ready": {"notification_channels": ["slack"], "slack_webhook_url": "https://hooks.slack.com/a"},
        "acme/no-url": {"notification_channels": ["slack"]},
        "acme/email": {"notification_channels": ["email"], "slack_webhook_url": "https://hooks.slack.com/b"},
        "acme/quiet": {},
    }
    for name, configuration in settings.items():
        repositories.enroll(
            Repository(
                tenant_id="t1",
                full_name=name,
                configuration=RepositoryConfiguration.model_validate(configuration),
            )
        )
    repositories.enroll(
        Repository(
            tenant_id="t2",
            full_name="other/ready",
            configuration=RepositoryConfiguration.model_validate(settings["acme/ready"]),
        )
    )
    assert service.slack_channels(repositories, "t1") == 1
    shown = service.view(service.load(InMemorySystemConfigStore(), 1), "test", GITHUB, slack_channels=1)
    assert shown.integrations.slack.channels_configured == 1
