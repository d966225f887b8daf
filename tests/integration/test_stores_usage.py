"""The usage store keeps the same promises on DynamoDB (moto) and in memory; the DynamoDB one measures
what a tenant really stores. One moto table per module, a fresh tenant per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from moto import mock_aws
from pydantic import ValidationError

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.stores.usage import DynamoUsageStore, InMemoryUsageStore, UsageStore, item_size
from mlops_bot.tenancy.service import enroll_repository
from tests.support.aws import create_state


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, table: StateTable) -> UsageStore:
    return DynamoUsageStore(table) if request.param == "dynamodb" else InMemoryUsageStore()


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def test_api_calls_are_counted_per_tenant_and_month(store: UsageStore) -> None:
    mine, theirs = tenant(), tenant()
    assert [store.add_api_call(mine, "2026-11") for _ in range(3)] == [1, 2, 3]
    store.add_api_call(mine, "2026-12")
    store.add_api_call(theirs, "2026-11")
    assert store.month(mine, "2026-11").api_calls == 3
    assert store.month(mine, "2026-12").api_calls == 1
    assert store.month(theirs, "2026-11").api_calls == 1
    assert store.month(mine, "2027-01").api_calls == 0


def test_a_malformed_month_is_refused_before_anything_is_counted(store: UsageStore) -> None:
    with pytest.raises(ValidationError):
        store.add_api_call(tenant(), "2026-11#X")


def test_a_new_tenant_stores_nothing(store: UsageStore) -> None:
    assert store.stored_bytes(tenant()) == 0


def test_the_stored_bytes_are_those_of_the_tenants_own_items_only(table: StateTable) -> None:
    mine, theirs = tenant(), tenant()
    store = DynamoUsageStore(table)
    enroll_repository(DynamoRepositoryStore(table), mine, f"acme/{mine}", source="test")
    table.put({**keys.audit_key(mine, "2026-11-27T10:00:00Z", "a1"), "action": "x" * 1000})
    enroll_repository(DynamoRepositoryStore(table), theirs, f"acme/{theirs}", source="test")
    table.put({**keys.audit_key(theirs, "2026-11-27T10:00:00Z", "a1"), "action": "y" * 5000})
    expected = sum(item_size(i) for i in table.query(keys.tenant_pk(mine))) + sum(
        item_size(i) for i in table.query(keys.audit_pk(mine))
    )
    measured = store.stored_bytes(mine)
    assert measured == expected
    assert 1000 < measured < 5000


def test_the_monthly_counter_keeps_its_stored_layout(table: StateTable) -> None:
    mine = tenant()
    DynamoUsageStore(table).add_api_call(mine, "2026-11")
    item = table.get(keys.usage_counter_key(mine, "2026-11"))
    assert item is not None and item["api_calls"] == 1
