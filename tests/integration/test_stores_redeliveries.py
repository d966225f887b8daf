"""The reconciler's redelivery requests keep one promise on DynamoDB (moto) and in memory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.redeliveries import (
    DynamoRedeliveryRequestStore,
    InMemoryRedeliveryRequestStore,
    RedeliveryRequest,
    RedeliveryRequestStore,
)
from tests.support.aws import create_state


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def requests(request: pytest.FixtureRequest, table: StateTable) -> RedeliveryRequestStore:
    return DynamoRedeliveryRequestStore(table) if request.param == "dynamodb" else InMemoryRedeliveryRequestStore()


def test_a_redelivery_is_requested_once_per_guid(requests: RedeliveryRequestStore) -> None:
    guid = str(uuid.uuid4())
    first = RedeliveryRequest(guid=guid, requested_at="2026-11-27T10:00:00Z")
    assert requests.request_once(first, 1_900_000_000)
    assert not requests.request_once(first.model_copy(update={"requested_at": "2026-11-27T11:00:00Z"}), 1_900_000_000)
    assert requests.request_once(RedeliveryRequest(guid=str(uuid.uuid4()), requested_at="x"), 1_900_000_000)


def test_the_dynamodb_marker_keeps_its_layout_and_expires(table: StateTable) -> None:
    guid = str(uuid.uuid4())
    DynamoRedeliveryRequestStore(table).request_once(RedeliveryRequest(guid=guid, requested_at="t"), 1_900_000_000)
    assert table.get(keys.reconcile_marker_key(guid)) == {
        **keys.reconcile_marker_key(guid),
        "guid": guid,
        "requested_at": "t",
        "expires_at": 1_900_000_000,
    }
