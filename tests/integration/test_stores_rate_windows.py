"""The API rate windows count the same on DynamoDB (moto) and in memory. One moto table per module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.rate_windows import DynamoRateWindowStore, InMemoryRateWindowStore, RateCategory, RateWindowStore
from tests.support.aws import create_state


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, table: StateTable) -> RateWindowStore:
    return DynamoRateWindowStore(table) if request.param == "dynamodb" else InMemoryRateWindowStore()


def test_each_tenant_category_and_window_counts_on_its_own(store: RateWindowStore) -> None:
    mine, theirs = f"t-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    assert [store.count(mine, RateCategory.MANAGEMENT, 7, expires_at=900) for _ in range(3)] == [1, 2, 3]
    assert store.count(mine, RateCategory.ANALYTICS, 7, expires_at=900) == 1
    assert store.count(mine, RateCategory.MANAGEMENT, 8, expires_at=900) == 1
    assert store.count(theirs, RateCategory.MANAGEMENT, 7, expires_at=900) == 1
    assert store.current(mine, RateCategory.MANAGEMENT, 7) == 3
    assert store.current(mine, RateCategory.WEBHOOKS, 7) == 0


def test_a_window_keeps_its_stored_layout_and_expires(table: StateTable) -> None:
    mine = f"t-{uuid.uuid4().hex[:8]}"
    DynamoRateWindowStore(table).count(mine, RateCategory.ANALYTICS, 42, expires_at=1_000)
    item = table.get(keys.rate_window_key(mine, "api:analytics", 42))
    assert item is not None and item["count"] == 1 and item["expires_at"] == 1_000
