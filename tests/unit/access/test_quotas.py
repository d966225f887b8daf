"""Quotas on the in-memory stores: slots are taken and freed exactly once."""

from __future__ import annotations

import pytest

from mlops_bot.access import users
from mlops_bot.access.users import AccessStores
from mlops_bot.errors import NotFound
from mlops_bot.management.accounts import quotas
from mlops_bot.management.watching.pipelines import PipelineCreate, create_pipeline, delete_pipeline
from mlops_bot.stores.login_attempts import InMemoryLoginAttemptStore
from mlops_bot.stores.pipelines import InMemoryPipelineStore
from mlops_bot.stores.sessions import InMemorySessionStore
from mlops_bot.stores.users import InMemoryUserStore

REQUEST = PipelineCreate(name="Production Deployment", repository="acme/model")


def test_a_full_tenant_is_refused_with_the_quota_in_the_error() -> None:
    store = InMemoryPipelineStore()
    create_pipeline(store, "t", REQUEST, "key-1", max_pipelines=1)
    with pytest.raises(quotas.QuotaExceeded) as refused:
        create_pipeline(store, "t", REQUEST, "key-1", max_pipelines=1)
    assert refused.value.extra["quota"] == {"resource": "pipelines", "limit": 1}
    assert store.count("t") == 1


def test_deleting_a_pipeline_twice_frees_one_slot() -> None:
    store = InMemoryPipelineStore()
    first = create_pipeline(store, "t", REQUEST, "key-1", max_pipelines=2)
    create_pipeline(store, "t", REQUEST, "key-1", max_pipelines=2)
    delete_pipeline(store, "t", first.id)
    with pytest.raises(NotFound):
        delete_pipeline(store, "t", first.id)
    create_pipeline(store, "t", REQUEST, "key-1", max_pipelines=2)
    with pytest.raises(quotas.QuotaExceeded):
        create_pipeline(store, "t", REQUEST, "key-1", max_pipelines=2)


def test_another_tenants_pipeline_cannot_be_deleted() -> None:
    store = InMemoryPipelineStore()
    theirs = create_pipeline(store, "other", REQUEST, "key-1", max_pipelines=5)
    with pytest.raises(NotFound):
        delete_pipeline(store, "t", theirs.id)
    assert store.get("other", theirs.id) == theirs


def test_the_user_quota_and_per_tenant_names_on_the_in_memory_store() -> None:
    store = AccessStores(InMemoryUserStore(), InMemorySessionStore(), InMemoryLoginAttemptStore(), "memory")
    users.create_user(store, "t", "one@example.com", "a long enough password", "read", max_users=1)
    with pytest.raises(users.QuotaFull):
        users.create_user(store, "t", "two@example.com", "a long enough password", "read", max_users=1)
    users.create_user(store, "other", "one@example.com", "a long enough password", "read", max_users=1)
    assert [u.username for u in users.list_users(store, "t")] == ["one@example.com"]
