"""The account services (tenants, quotas, usage, rate limits, request metrics) on in-memory stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlops_bot.access import passwords
from mlops_bot.access.api_keys import Principal
from mlops_bot.access.users import AccessStores
from mlops_bot.management.accounts.tenants import TenantStores
from mlops_bot.stores.login_attempts import InMemoryLoginAttemptStore
from mlops_bot.stores.pipelines import InMemoryPipelineStore
from mlops_bot.stores.sessions import InMemorySessionStore
from mlops_bot.stores.tenants import InMemoryTenantStore
from mlops_bot.stores.usage import InMemoryUsageStore
from mlops_bot.stores.users import InMemoryUserStore

OPERATOR_TENANT = "default"


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(passwords, "COST", 2**10)
    passwords.dummy_hash.cache_clear()
    yield
    passwords.dummy_hash.cache_clear()


class Accounts:
    """The stores behind the tenant services, with the pipeline store the counters count."""

    def __init__(self) -> None:
        self.users = InMemoryUserStore()
        self.pipelines = InMemoryPipelineStore()
        self.tenants = InMemoryTenantStore(pipelines=self.pipelines, users=self.users)
        self.usage = InMemoryUsageStore()
        access = AccessStores(self.users, InMemorySessionStore(), InMemoryLoginAttemptStore(), "memory")
        self.stores = TenantStores(self.tenants, self.usage, access)


@pytest.fixture
def accounts() -> Accounts:
    return Accounts()


def admin_of(tenant_id: str) -> Principal:
    return Principal(key_id=f"key-{tenant_id}", tenant_id=tenant_id, name="admin", permissions=["admin"])
