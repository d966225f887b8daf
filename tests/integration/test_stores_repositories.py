"""`RepositoryStore`'s unenrolment and model baseline keep one contract on DynamoDB (moto) and in memory.

(Enrolment, configuration and routes: tests/integration/test_edge_stores.py.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.repositories import (
    DynamoRepositoryStore,
    InMemoryRepositoryStore,
    ModelBaseline,
    ModelDeployment,
    Repository,
    RepositoryStore,
)
from tests.support.aws import create_state


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@dataclass
class Tenant:
    id: str
    repo: str
    store: RepositoryStore

    def enroll(self, tenant_id: str | None = None) -> None:
        owner = tenant_id or self.id
        assert self.store.claim_repository(self.repo, owner) == owner
        assert self.store.enroll(Repository(tenant_id=owner, full_name=self.repo))


@pytest.fixture(params=["dynamodb", "memory"])
def tenant(request: pytest.FixtureRequest, table: StateTable) -> Tenant:
    tenant_id = f"t-{uuid.uuid4().hex[:8]}"
    store = DynamoRepositoryStore(table) if request.param == "dynamodb" else InMemoryRepositoryStore()
    return Tenant(tenant_id, f"acme/{tenant_id}", store)


def test_unenrolling_removes_the_repository_and_frees_its_route(tenant: Tenant) -> None:
    tenant.enroll()
    assert tenant.store.unenroll(tenant.id, tenant.repo.upper())
    assert tenant.store.get(tenant.id, tenant.repo) is None
    assert tenant.store.repository_owner(tenant.repo) is None
    assert not tenant.store.unenroll(tenant.id, tenant.repo)  # nothing left to remove
    assert tenant.store.claim_repository(tenant.repo, "someone-else") == "someone-else"


def test_unenrolling_leaves_another_tenants_route_alone(tenant: Tenant) -> None:
    tenant.enroll()
    assert not tenant.store.unenroll("intruder", tenant.repo)
    assert tenant.store.repository_owner(tenant.repo) == tenant.id
    assert tenant.store.get(tenant.id, tenant.repo) is not None


def test_the_model_baseline_is_kept_with_its_deployment_for_a_monitored_repository(tenant: Tenant) -> None:
    baseline = ModelBaseline(metrics={"auc": 0.91, "latency_ms": 40}, ref="v1.4.0", at="2026-11-27T10:00:00Z")
    deployment = ModelDeployment(ref="v1.4.0", sha="a" * 40)
    assert not tenant.store.record_model_baseline(tenant.id, tenant.repo, baseline, deployment)
    assert tenant.store.get(tenant.id, tenant.repo) is None  # not created by the write
    tenant.enroll()
    assert tenant.store.model_baseline(tenant.id, tenant.repo) is None
    assert tenant.store.record_model_baseline(tenant.id, tenant.repo, baseline, deployment)
    assert tenant.store.model_baseline(tenant.id, tenant.repo.upper()) == baseline
    newer = baseline.model_copy(update={"metrics": {"auc": 0.92}, "ref": "v1.5.0"})
    assert tenant.store.record_model_baseline(tenant.id, tenant.repo, newer, ModelDeployment(ref="v1.5.0"))
    assert tenant.store.model_baseline(tenant.id, tenant.repo) == newer


def test_dynamodb_keeps_the_signal_fields_layout(table: StateTable) -> None:
    store = DynamoRepositoryStore(table)
    tenant_id = f"t-{uuid.uuid4().hex[:8]}"
    store.enroll(Repository(tenant_id=tenant_id, full_name="acme/model"))
    baseline = ModelBaseline(metrics={"auc": 0.91}, ref="v1", at="2026-11-27T10:00:00Z")
    store.record_model_baseline(tenant_id, "acme/model", baseline, ModelDeployment(ref="v1"))
    item = table.get(keys.repository_key(tenant_id, "acme/model"))
    assert item is not None
    assert item["model_baseline"] == {"metrics": {"auc": 0.91}, "ref": "v1", "at": "2026-11-27T10:00:00Z"}
    assert item["last_good_deployment"] == {"ref": "v1", "environment": "production"}


def test_an_unreadable_stored_baseline_reads_as_none_and_the_repository_stays_listed(table: StateTable) -> None:
    store = DynamoRepositoryStore(table)
    tenant_id = f"t-{uuid.uuid4().hex[:8]}"
    store.enroll(Repository(tenant_id=tenant_id, full_name="acme/model"))
    table.table.update_item(
        Key=keys.repository_key(tenant_id, "acme/model"),
        UpdateExpression="SET model_baseline = :b",
        ExpressionAttributeValues={":b": {"metrics": {"auc": Decimal("-Infinity")}, "ref": "v1"}},
    )
    assert store.model_baseline(tenant_id, "acme/model") is None
    assert [r.full_name for r in store.of_tenant(tenant_id)] == ["acme/model"]
