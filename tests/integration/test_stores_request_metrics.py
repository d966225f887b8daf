"""The request counters of `/metrics` keep the same promises on DynamoDB (moto) and in memory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from moto import mock_aws
from pydantic import ValidationError

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.request_metrics import (
    BUCKETS,
    DynamoRequestMetricsStore,
    InMemoryRequestMetricsStore,
    RequestMetricsStore,
)
from tests.support.aws import create_state


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, table: StateTable) -> RequestMetricsStore:
    return DynamoRequestMetricsStore(table) if request.param == "dynamodb" else InMemoryRequestMetricsStore()


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def test_requests_are_counted_with_their_duration_and_cumulative_buckets(store: RequestMetricsStore) -> None:
    mine = tenant()
    store.add(mine, "GET", "/api/pipelines", 200, 0.003)
    store.add(mine, "GET", "/api/pipelines", 200, 0.2)
    store.add(mine, "POST", "/api/pipelines", 403, 0.02)
    store.add(tenant(), "GET", "/api/pipelines", 200, 0.003)
    first, second = store.counters(mine)
    assert (first.method, first.route, first.status, first.count) == ("GET", "/api/pipelines", 200, 2)
    assert first.duration_seconds == pytest.approx(0.203)
    assert first.buckets[0.005] == 1 and first.buckets[0.1] == 1 and first.buckets[0.25] == 2
    assert first.buckets[BUCKETS[-1]] == 2
    assert (second.method, second.status, second.count) == ("POST", 403, 1)
    assert second.buckets[0.01] == 0 and second.buckets[0.025] == 1


def test_a_malformed_request_is_refused_before_anything_is_stored(store: RequestMetricsStore) -> None:
    mine = tenant()
    with pytest.raises(ValidationError):
        store.add(mine, "GET", "/x" * 400, 200, 0.1)
    assert store.counters(mine) == []


def test_a_malformed_stored_counter_is_left_out(table: StateTable) -> None:
    mine = tenant()
    store = DynamoRequestMetricsStore(table)
    store.add(mine, "GET", "/api/tenants", 200, 0.01)
    table.put({**keys.request_metrics_key(mine, "GET", "/broken", 200), "method": "GET", "route": "/broken"})
    assert [c.route for c in store.counters(mine)] == ["/api/tenants"]


def test_a_counter_keeps_its_stored_layout(table: StateTable) -> None:
    mine = tenant()
    DynamoRequestMetricsStore(table).add(mine, "GET", "/api/tenants", 200, 0.01)
    item = table.get(keys.request_metrics_key(mine, "GET", "/api/tenants", 200))
    assert item is not None
    assert {k: item[k] for k in ("method", "route", "status", "entity", "count", "duration_us")} == {
        "method": "GET",
        "route": "/api/tenants",
        "status": 200,
        "entity": "request_metrics",
        "count": 1,
        "duration_us": 10_000,
    }
    assert item["le_0_01"] == 1 and item["le_10_0"] == 1 and "le_0_005" not in item
