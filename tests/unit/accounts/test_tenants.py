"""Creating tenants, who sees them, and users within the tenant's quota, on the in-memory stores."""

from __future__ import annotations

import pytest

from mlops_bot.access import passwords
from mlops_bot.access.api_keys import Principal
from mlops_bot.errors import Forbidden, NotFound, ValidationFailed
from mlops_bot.management.accounts import quotas, tenants
from mlops_bot.management.accounts.quotas import ResourceQuota
from mlops_bot.management.accounts.tenants import Tenant, TenantCreate
from mlops_bot.stores.pipelines import Pipeline
from mlops_bot.stores.tenants import TenantStatus
from tests.unit.accounts.conftest import OPERATOR_TENANT, Accounts, admin_of

OPERATOR = admin_of(OPERATOR_TENANT)


def request(max_users: int = 5) -> TenantCreate:
    quota = ResourceQuota(max_pipelines=2, max_users=max_users)
    return TenantCreate(name="Acme ML", admin_email="ops@acme.example", resource_quota=quota)


def test_an_operator_creates_a_tenant_with_its_admin_user(accounts: Accounts) -> None:
    created = tenants.create_tenant(accounts.stores, OPERATOR, OPERATOR_TENANT, request())
    assert created.name == "Acme ML" and created.status is TenantStatus.ACTIVE
    assert created.resource_quota == ResourceQuota(max_pipelines=2, max_users=5)
    assert created.current_usage.users == 1 and created.current_usage.pipelines == 0
    assert created.admin_user.username == "ops@acme.example" and created.admin_user.role == "admin"
    stored = accounts.users.find_login(created.id, "ops@acme.example")
    assert stored is not None and passwords.verify_password(created.admin_user.initial_password, stored.password_hash)
    assert tenants.registered_ids(accounts.stores) == [created.id]
    assert tenants.get_tenant(accounts.stores, created.id) == Tenant.model_validate(
        created.model_dump(exclude={"admin_user"})
    )


def test_only_operators_create_tenants(accounts: Accounts) -> None:
    with pytest.raises(Forbidden):
        tenants.create_tenant(accounts.stores, admin_of("tenant-a"), OPERATOR_TENANT, request())
    reader = Principal(key_id="k", tenant_id=OPERATOR_TENANT, name="reader", permissions=["read"])
    with pytest.raises(Forbidden):
        tenants.create_tenant(accounts.stores, reader, OPERATOR_TENANT, request())
    assert tenants.registered_ids(accounts.stores) == []


def test_a_quota_without_room_for_the_admin_creates_nothing(accounts: Accounts) -> None:
    with pytest.raises(ValidationFailed):
        tenants.create_tenant(accounts.stores, OPERATOR, OPERATOR_TENANT, request(max_users=0))
    assert tenants.registered_ids(accounts.stores) == []


def test_operators_list_every_tenant_and_other_admins_only_their_own(accounts: Accounts) -> None:
    one = tenants.create_tenant(accounts.stores, OPERATOR, OPERATOR_TENANT, request())
    two = tenants.create_tenant(accounts.stores, OPERATOR, OPERATOR_TENANT, request())
    listed = tenants.list_tenants(accounts.stores, OPERATOR, OPERATOR_TENANT)
    assert sorted(t.id for t in listed.tenants) == sorted([one.id, two.id]) and listed.total == 2
    own = tenants.list_tenants(accounts.stores, admin_of(one.id), OPERATOR_TENANT)
    assert [t.id for t in own.tenants] == [one.id]


def test_another_tenant_is_not_found_for_a_tenant_admin_but_visible_to_operators(accounts: Accounts) -> None:
    theirs = tenants.create_tenant(accounts.stores, OPERATOR, OPERATOR_TENANT, request())
    with pytest.raises(NotFound):
        tenants.ensure_visible(admin_of("tenant-mine"), theirs.id, OPERATOR_TENANT)
    tenants.ensure_visible(OPERATOR, theirs.id, OPERATOR_TENANT)
    tenants.ensure_visible(admin_of(theirs.id), theirs.id, OPERATOR_TENANT)
    with pytest.raises(NotFound):
        tenants.get_tenant(accounts.stores, "tenant-never-created")


def test_a_tenant_with_a_malformed_profile_is_left_out_of_the_listing(accounts: Accounts) -> None:
    good = tenants.create_tenant(accounts.stores, OPERATOR, OPERATOR_TENANT, request())
    accounts.tenants.register("tenant-broken", "2026-11-27T10:00:00Z")
    accounts.tenants.store_raw_profile("tenant-broken", {"resource_quota": {"max_users": "x"}})
    listed = tenants.list_tenants(accounts.stores, OPERATOR, OPERATOR_TENANT)
    assert [t.id for t in listed.tenants] == [good.id]


def test_a_registered_tenant_without_a_profile_shows_its_id_and_the_default_quota(accounts: Accounts) -> None:
    accounts.tenants.register(OPERATOR_TENANT, "2026-01-01T00:00:00Z")
    found = tenants.get_tenant(accounts.stores, OPERATOR_TENANT)
    assert found.name == OPERATOR_TENANT and found.created_at == "2026-01-01T00:00:00Z"
    assert found.resource_quota == ResourceQuota()


def test_users_beyond_the_tenants_quota_are_refused_with_the_quota(accounts: Accounts) -> None:
    created = tenants.create_tenant(accounts.stores, OPERATOR, OPERATOR_TENANT, request(max_users=2))
    tenants.add_user(accounts.stores, created.id, "dana@acme.example", "a long enough password", "read")
    with pytest.raises(quotas.QuotaExceeded) as refused:
        tenants.add_user(accounts.stores, created.id, "eve@acme.example", "a long enough password", "read")
    assert refused.value.extra["quota"] == {"resource": "users", "limit": 2}
    assert tenants.get_tenant(accounts.stores, created.id).current_usage.users == 2


def test_adding_a_user_registers_its_tenant(accounts: Accounts) -> None:
    tenants.add_user(accounts.stores, "tenant-cli", "ops@cli.example", "a long enough password", "admin")
    assert tenants.registered_ids(accounts.stores) == ["tenant-cli"]


def test_the_current_usage_counts_pipelines_users_and_stored_gigabytes(accounts: Accounts) -> None:
    created = tenants.create_tenant(accounts.stores, OPERATOR, OPERATOR_TENANT, request())
    pipeline = Pipeline(id="pipe-1", tenant_id=created.id, name="Production", created_at="2026-11-27T10:00:00Z")
    assert accounts.pipelines.create(pipeline, max_pipelines=2)
    accounts.usage.set_stored_bytes(created.id, 1_500_000_000)
    usage = tenants.current_usage(accounts.stores, created.id)
    assert (usage.pipelines, usage.users, usage.storage_gb) == (1, 1, 1.5)
