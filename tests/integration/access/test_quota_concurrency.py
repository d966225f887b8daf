"""Quotas hold when creates and deletes race (threads against moto, one table client per thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.errors import NotFound
from mlops_bot.management.accounts import quotas, tenants
from mlops_bot.management.watching import pipelines
from mlops_bot.management.watching.pipelines import PipelineCreate, PipelineDetails
from mlops_bot.storage import keys
from mlops_bot.stores.pipelines import DynamoPipelineStore
from mlops_bot.stores.tenants import DynamoTenantStore
from mlops_bot.stores.usage import DynamoUsageStore
from tests.support.aws import MockState
from tests.support.stores import pipeline_sources, tenant_stores

TENANT = "tenant-race"
REQUEST = PipelineCreate(name="Production Deployment", repository="acme/model")
T = TypeVar("T")


def _race(tables: list[StateTable], attempt: Callable[[StateTable], T]) -> list[T]:
    """Run `attempt` once per table, all released at the same moment."""
    start = threading.Barrier(len(tables))

    def run(table: StateTable) -> T:
        start.wait()
        return attempt(table)

    with ThreadPoolExecutor(max_workers=len(tables)) as pool:
        return list(pool.map(run, tables))


def _register(table: StateTable) -> PipelineDetails:
    """What `POST /api/pipelines` does, on stores built on this thread's table client."""
    return pipelines.register(
        pipeline_sources(table), DynamoTenantStore(table), DynamoUsageStore(table), TENANT, REQUEST, "test"
    )


def _pipelines_stored(table: StateTable) -> int:
    return len(table.query(keys.tenant_pk(TENANT), "PIPELINE#"))


def test_concurrent_deletes_of_one_pipeline_free_one_slot_and_the_quota_holds(aws: MockState) -> None:
    tables = [StateTable(aws.table_name) for _ in range(6)]
    tables[0].put({**keys.tenant_profile_key(TENANT), "name": TENANT, "resource_quota": {"max_pipelines": 3}})
    created = [_register(tables[0]) for _ in range(3)]

    def delete(table: StateTable) -> bool:
        try:
            pipelines.delete_pipeline(DynamoPipelineStore(table), TENANT, created[0].id)
        except NotFound:
            return False
        return True

    assert _race(tables, delete).count(True) == 1

    def create(table: StateTable) -> bool:
        try:
            _register(table)
        except quotas.QuotaExceeded:
            return False
        return True

    assert _race(tables, create).count(True) == 1
    assert _pipelines_stored(tables[0]) == 3
    assert quotas.counters(DynamoTenantStore(tables[0]), TENANT).pipeline_count == 3


def test_concurrent_creates_never_pass_the_quota(aws: MockState) -> None:
    tables = [StateTable(aws.table_name) for _ in range(8)]
    tables[0].put({**keys.tenant_profile_key(TENANT), "name": TENANT, "resource_quota": {"max_pipelines": 2}})

    def create(table: StateTable) -> bool:
        try:
            _register(table)
        except quotas.QuotaExceeded:
            return False
        return True

    assert _race(tables, create).count(True) == 2
    assert _pipelines_stored(tables[0]) == 2
    assert quotas.counters(DynamoTenantStore(tables[0]), TENANT).pipeline_count == 2


def test_concurrent_user_creations_never_pass_the_user_quota(aws: MockState) -> None:
    tables = [StateTable(aws.table_name) for _ in range(6)]
    tables[0].put({**keys.tenant_profile_key(TENANT), "name": TENANT, "resource_quota": {"max_users": 2}})
    names = iter(f"user{n}@race.example" for n in range(len(tables)))
    wanted = {id(t): next(names) for t in tables}

    def create(table: StateTable) -> bool:
        try:
            tenants.add_user(tenant_stores(table), TENANT, wanted[id(table)], "a long enough password", "read")
        except quotas.QuotaExceeded:
            return False
        return True

    assert _race(tables, create).count(True) == 2
    assert len(tables[0].query(keys.tenant_pk(TENANT), "USER#")) == 2
    assert quotas.counters(DynamoTenantStore(tables[0]), TENANT).user_count == 2
