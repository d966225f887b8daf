"""The tenant store keeps the same promises on DynamoDB (moto) and in memory: registry, profile, counters.

One moto table per module, a fresh tenant per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.pipelines import DynamoPipelineStore, InMemoryPipelineStore, Pipeline, PipelineStore
from mlops_bot.stores.tenants import (
    DynamoTenantStore,
    InMemoryTenantStore,
    ResourceQuota,
    TenantCounters,
    TenantProfile,
    TenantStatus,
    TenantStore,
    UnreadableProfile,
)
from mlops_bot.stores.users import DynamoUserStore, InMemoryUserStore, UserCreation, UserRecord, UserStore
from tests.support.aws import create_state

NOW = "2026-11-27T10:00:00Z"


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@dataclass
class Setup:
    tenant: str
    tenants: TenantStore
    pipelines: PipelineStore
    users: UserStore
    store_raw_profile: Callable[[str, dict[str, Any]], None]  # a profile as found in storage, however old


@pytest.fixture(params=["dynamodb", "memory"])
def setup(request: pytest.FixtureRequest, table: StateTable) -> Setup:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    if request.param == "dynamodb":
        return Setup(
            tenant,
            DynamoTenantStore(table),
            DynamoPipelineStore(table),
            DynamoUserStore(table),
            lambda t, item: table.put({**keys.tenant_profile_key(t), **item}),
        )
    pipelines, users = InMemoryPipelineStore(), InMemoryUserStore()
    tenants = InMemoryTenantStore(pipelines=pipelines, users=users)
    return Setup(tenant, tenants, pipelines, users, tenants.store_raw_profile)


def pipeline(tenant: str) -> Pipeline:
    return Pipeline(id=f"pipe-{uuid.uuid4().hex[:8]}", tenant_id=tenant, name="Production", created_at=NOW)


def user(tenant: str, name: str) -> UserRecord:
    return UserRecord(
        id=f"user-{uuid.uuid4().hex[:8]}",
        username=name,
        role="read",
        tenant_id=tenant,
        created_at=NOW,
        password_hash="scrypt$not-a-real-hash",
    )


def test_a_tenant_is_registered_once_and_listed_by_the_registry(setup: Setup) -> None:
    assert setup.tenants.registration(setup.tenant) is None
    assert setup.tenants.register(setup.tenant, NOW)
    assert not setup.tenants.register(setup.tenant, "2030-01-01T00:00:00Z")
    registration = setup.tenants.registration(setup.tenant)
    assert registration is not None and registration.created_at == NOW
    assert setup.tenant in [r.tenant_id for r in setup.tenants.registered()]


def test_the_reserved_system_tenant_is_never_listed(setup: Setup) -> None:
    setup.tenants.register(keys.SYSTEM_TENANT, NOW)
    setup.tenants.register(setup.tenant, NOW)
    listed = [r.tenant_id for r in setup.tenants.registered()]
    assert keys.SYSTEM_TENANT not in listed and setup.tenant in listed


def test_a_tenant_without_a_profile_has_the_default_quota(setup: Setup) -> None:
    assert setup.tenants.profile(setup.tenant) is None
    assert setup.tenants.quota(setup.tenant) == ResourceQuota()


def test_a_saved_profile_reads_back_the_same_and_sets_the_quota(setup: Setup) -> None:
    quota = ResourceQuota(max_pipelines=3, max_storage_gb=0.5, max_users=2)
    profile = TenantProfile(
        tenant_id=setup.tenant,
        name="Acme ML",
        admin_email="ops@acme.example",
        status=TenantStatus.ACTIVE,
        created_at=NOW,
        resource_quota=quota,
    )
    setup.tenants.save_profile(profile)
    assert setup.tenants.profile(setup.tenant) == profile
    assert setup.tenants.quota(setup.tenant) == quota


def test_a_profile_written_before_the_store_reads_with_defaults(setup: Setup) -> None:
    setup.store_raw_profile(setup.tenant, {"name": setup.tenant, "resource_quota": {"max_pipelines": 2}})
    found = setup.tenants.profile(setup.tenant)
    assert found is not None and found.tenant_id == setup.tenant and found.status is TenantStatus.ACTIVE
    assert found.resource_quota == ResourceQuota(max_pipelines=2)


def test_a_malformed_profile_is_reported_unreadable(setup: Setup) -> None:
    setup.store_raw_profile(setup.tenant, {"resource_quota": {"max_users": "x"}})
    with pytest.raises(UnreadableProfile):
        setup.tenants.profile(setup.tenant)
    with pytest.raises(UnreadableProfile):
        setup.tenants.quota(setup.tenant)


def test_the_counters_follow_the_pipelines_and_users_created_and_deleted(setup: Setup) -> None:
    assert setup.tenants.counters(setup.tenant) == TenantCounters()
    first, second = pipeline(setup.tenant), pipeline(setup.tenant)
    assert setup.pipelines.create(first, max_pipelines=5) and setup.pipelines.create(second, max_pipelines=5)
    assert setup.users.create(user(setup.tenant, "dana@example.com"), max_users=5) is UserCreation.CREATED
    assert setup.tenants.counters(setup.tenant) == TenantCounters(pipeline_count=2, user_count=1)
    assert setup.pipelines.delete(setup.tenant, first.id)
    assert not setup.pipelines.delete(setup.tenant, first.id)
    assert setup.tenants.counters(setup.tenant) == TenantCounters(pipeline_count=1, user_count=1)
    assert setup.tenants.counters(f"{setup.tenant}-other") == TenantCounters()


def test_the_registry_and_profile_keep_the_stored_layout(table: StateTable) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    store = DynamoTenantStore(table)
    store.register(tenant, NOW)
    store.save_profile(TenantProfile(tenant_id=tenant, name="Acme", created_at=NOW))
    registered = table.get(keys.tenant_registry_key(tenant))
    assert registered is not None and registered["tenant_id"] == tenant and registered["created_at"] == NOW
    profile = table.get(keys.tenant_profile_key(tenant))
    assert profile is not None
    assert {k: profile[k] for k in ("entity", "tenant_id", "name", "status", "created_at")} == {
        "entity": "tenant",
        "tenant_id": tenant,
        "name": "Acme",
        "status": "active",
        "created_at": NOW,
    }
    assert profile["resource_quota"] == {"max_pipelines": 100, "max_storage_gb": 500, "max_users": 50}
