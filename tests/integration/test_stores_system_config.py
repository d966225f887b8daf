"""The system configuration store keeps the same promises on DynamoDB (moto) and in memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.system_config import (
    DynamoSystemConfigStore,
    InMemorySystemConfigStore,
    Integrations,
    Limits,
    StoredConfig,
    SystemConfigStore,
    Toggle,
    forget_cached,
)
from tests.support.aws import create_state


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, table: StateTable) -> Iterator[SystemConfigStore]:
    forget_cached()
    if request.param == "memory":
        yield InMemorySystemConfigStore()
        return
    table.delete(keys.system_config_key())  # one item for the deployment: each test starts without it
    yield DynamoSystemConfigStore(table)
    table.delete(keys.system_config_key())
    forget_cached()


def test_nothing_stored_reads_as_none(store: SystemConfigStore) -> None:
    assert store.get() is None
    assert store.cached(max_age=60) is None


def test_a_stored_configuration_reads_back_with_the_limits_that_were_set(store: SystemConfigStore) -> None:
    config = StoredConfig(
        limits=Limits(rate_limit_per_minute=42),
        integrations=Integrations(email=Toggle(enabled=False)),
        updated_at="2026-11-27T10:00:00Z",
        updated_by="k1",
    )
    store.put(config)
    found = store.get()
    assert found is not None
    assert found.limits.rate_limit_per_minute == 42
    assert "rate_limit_per_minute" in found.limits.model_fields_set
    assert found.integrations.email.enabled is False
    assert (found.updated_at, found.updated_by) == ("2026-11-27T10:00:00Z", "k1")


def test_a_limit_never_stored_is_not_reported_as_set(store: SystemConfigStore) -> None:
    store.put(StoredConfig.model_validate({"features": {"advanced_analytics": False}, "limits": {}}))
    found = store.get()
    assert found is not None and found.features.advanced_analytics is False
    assert "rate_limit_per_minute" not in found.limits.model_fields_set


def test_the_cached_copy_is_reused_and_a_put_replaces_it(store: SystemConfigStore) -> None:
    store.put(StoredConfig(limits=Limits(rate_limit_per_minute=10)))
    first = store.cached(max_age=60)
    assert first is not None and first.limits.rate_limit_per_minute == 10
    first.limits.rate_limit_per_minute = 99  # a caller changing its copy changes nothing stored or cached
    again = store.cached(max_age=60)
    assert again is not None and again.limits.rate_limit_per_minute == 10
    store.put(StoredConfig(limits=Limits(rate_limit_per_minute=20)))
    latest = store.cached(max_age=60)
    assert latest is not None and latest.limits.rate_limit_per_minute == 20


def test_an_unreadable_stored_configuration_reads_as_none(table: StateTable) -> None:
    forget_cached()
    table.put({**keys.system_config_key(), "entity": "system_config", "limits": {"rate_limit_per_minute": -5}})
    try:
        assert DynamoSystemConfigStore(table).get() is None
    finally:
        table.delete(keys.system_config_key())
