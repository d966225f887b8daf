"""`DeliveryStore` and `RepositoryStore`: the DynamoDB implementation (moto) and the in-memory one
keep the same promises, so unit tests of admission on the in-memory stores say something true."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.storage import keys
from mlops_bot.stores.deliveries import (
    Delivery,
    DeliveryStatus,
    DeliveryStore,
    DynamoDeliveryStore,
    InMemoryDeliveryStore,
)
from mlops_bot.stores.repositories import (
    DynamoRepositoryStore,
    InMemoryRepositoryStore,
    Repository,
    RepositoryConfiguration,
    RepositoryStore,
)
from tests.support.aws import MockState

KINDS = ["dynamodb", "memory"]


@pytest.fixture(params=KINDS)
def deliveries(request: pytest.FixtureRequest, aws: MockState) -> Iterator[DeliveryStore]:
    yield DynamoDeliveryStore(StateTable(aws.table_name)) if request.param == "dynamodb" else InMemoryDeliveryStore()


@pytest.fixture(params=KINDS)
def repositories(request: pytest.FixtureRequest, aws: MockState) -> Iterator[RepositoryStore]:
    if request.param == "dynamodb":
        yield DynamoRepositoryStore(StateTable(aws.table_name))
    else:
        yield InMemoryRepositoryStore()


def a_delivery(execution_id: str = "e1", claimed_at: int | None = None) -> Delivery:
    now = epoch_seconds(utc_now())
    return Delivery(
        tenant_id="t1",
        delivery_id="d1",
        event="workflow_run",
        repository="acme/model",
        execution_id=execution_id,
        received_at=iso(utc_now()),
        claimed_at=now if claimed_at is None else claimed_at,
        expires_at=now + 3600,
    )


def test_the_first_claim_wins_and_later_ones_see_it(deliveries: DeliveryStore) -> None:
    assert deliveries.claim(a_delivery("e1")) is None
    seen = deliveries.claim(a_delivery("e2"))
    assert seen is not None and seen.execution_id == "e1" and seen.status is DeliveryStatus.RECEIVED


def test_release_gives_back_only_this_claim(deliveries: DeliveryStore) -> None:
    deliveries.claim(a_delivery("e1"))
    deliveries.release(a_delivery("someone-else"))
    assert deliveries.get("t1", "d1") is not None
    deliveries.release(a_delivery("e1"))
    assert deliveries.get("t1", "d1") is None


def test_a_queued_delivery_is_never_released_or_taken_over(deliveries: DeliveryStore) -> None:
    claim = a_delivery("e1", claimed_at=1)
    deliveries.claim(claim)
    deliveries.mark_queued(claim, iso(utc_now()))
    deliveries.release(claim)
    assert not deliveries.take_over(claim, claimed_at=2)
    stored = deliveries.get("t1", "d1")
    assert stored is not None and stored.status is DeliveryStatus.QUEUED


def test_only_one_of_two_takers_gets_a_stale_claim(deliveries: DeliveryStore) -> None:
    stale = a_delivery("e1", claimed_at=1)
    deliveries.claim(stale)
    assert deliveries.take_over(stale, claimed_at=100)
    assert not deliveries.take_over(stale, claimed_at=101)


def test_admissions_count_per_scope_and_window(deliveries: DeliveryStore) -> None:
    assert [deliveries.count_admission("t1", "webhooks:acme/model", 7, 999) for _ in range(3)] == [1, 2, 3]
    assert deliveries.count_admission("t1", "webhooks:acme/other", 7, 999) == 1
    assert deliveries.count_admission("t1", "webhooks:acme/model", 8, 999) == 1


def repository(full_name: str = "acme/model", tenant: str = "t1", **fields: Any) -> Repository:
    return Repository(tenant_id=tenant, full_name=full_name, created_at=iso(utc_now()), **fields)


def test_a_repository_is_enrolled_once_and_listed_by_tenant(repositories: RepositoryStore) -> None:
    assert repositories.enroll(repository("acme/b"))
    assert repositories.enroll(repository("acme/a"))
    assert not repositories.enroll(repository("ACME/a"))
    assert repositories.enroll(repository("acme/a", tenant="t2"))
    assert [r.full_name for r in repositories.of_tenant("t1")] == ["acme/a", "acme/b"]
    found = repositories.get("t1", "Acme/A")
    # Nothing set through the API yet: the file (or the bot's default) decides; the API shows the default.
    assert found is not None and found.configuration.auto_fix_enabled is None
    assert found.configuration.effective()["auto_fix_enabled"] is True


def test_routes_are_first_come_first_served(repositories: RepositoryStore) -> None:
    assert repositories.claim_repository("acme/model", "t1") == "t1"
    assert repositories.claim_repository("ACME/model", "t2") == "t1"
    assert repositories.repository_owner("acme/model") == "t1"
    assert repositories.claim_installation(7, "t2") == "t2"
    assert repositories.claim_installation(7, "t1") == "t2"
    assert repositories.installation_owner(8) is None


def test_a_configuration_update_replaces_it_and_keeps_the_counters(repositories: RepositoryStore) -> None:
    repositories.enroll(repository(issues_detected=3))
    configuration = RepositoryConfiguration(auto_fix_enabled=False, model_thresholds={"default": {"x": 0.1}})
    updated = repositories.update_configuration("t1", "acme/model", configuration, "2026-01-01T00:00:00Z")
    assert updated is not None and updated.configuration.auto_fix_enabled is False
    assert updated.issues_detected == 3
    assert (updated.configuration.model_extra or {})["model_thresholds"] == {"default": {"x": 0.1}}
    assert repositories.update_configuration("t1", "acme/none", configuration, "2026-01-01T00:00:00Z") is None


@pytest.mark.parametrize("bad", [{"full_name": "../../x"}, {"full_name": "acme/mo#del"}, {"issues_detected": -1}])
def test_an_item_that_breaks_the_rules_can_not_be_built(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Repository.model_validate({"tenant_id": "t1", "full_name": "acme/model", "created_at": "now", **bad})
    with pytest.raises(ValidationError):
        RepositoryConfiguration.model_validate({"model_thresholds": {"default": {"max_relative_drop": float("nan")}}})


def test_an_oversized_configuration_is_refused_before_the_write(repositories: RepositoryStore) -> None:
    repositories.enroll(repository())
    huge = RepositoryConfiguration.model_validate({"notes": "x" * 70_000})
    with pytest.raises(ValueError, match="bytes"):
        repositories.update_configuration("t1", "acme/model", huge, "2026-01-01T00:00:00Z")


def test_the_dynamodb_listing_skips_and_logs_a_malformed_item(aws: MockState, caplog: pytest.LogCaptureFixture) -> None:
    store = DynamoRepositoryStore(StateTable(aws.table_name))
    store.enroll(repository("acme/good"))
    store.enroll(repository("acme/bad"))
    boto3.resource("dynamodb").Table(aws.table_name).update_item(
        Key=keys.repository_key("t1", "acme/bad"),
        UpdateExpression="SET full_name = :n",
        ExpressionAttributeValues={":n": "acme/bad#evil"},
    )
    assert [r.full_name for r in store.of_tenant("t1")] == ["acme/good"]
    assert store.get("t1", "acme/bad") is None
    assert any("unreadable repository item" in r.getMessage() for r in caplog.records)
