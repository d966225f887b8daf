"""Tenant quotas: `max_pipelines`, `max_users` (counters) and `max_storage_gb` (measured).

The counters live with the tenant (`stores.tenants`) and move in the same DynamoDB transaction as
the pipeline or user they count (`stores.pipelines`, `stores.users`): a slot is taken only with a
creation and given back only by the one delete that removed the thing, however many race. Storage
is measured from the tenant's records (`stores.usage`) when something would add to it.
"""

from __future__ import annotations

from mlops_bot.errors import Forbidden
from mlops_bot.stores.tenants import ResourceQuota as ResourceQuota
from mlops_bot.stores.tenants import TenantCounters, TenantStore


class QuotaExceeded(Forbidden):
    code = "QUOTA_EXCEEDED"


def quota_of(store: TenantStore, tenant_id: str) -> ResourceQuota:
    """The tenant's quota; the defaults for a tenant without a profile."""
    return store.quota(tenant_id)


def counters(store: TenantStore, tenant_id: str) -> TenantCounters:
    return store.counters(tenant_id)


def exceeded(resource: str, maximum: int) -> QuotaExceeded:
    return QuotaExceeded(
        "Quota exceeded",
        f"The tenant may have at most {maximum} {resource}",
        quota={"resource": resource, "limit": maximum},
    )


def check_storage(used_gb: float, quota: ResourceQuota) -> None:
    if used_gb >= quota.max_storage_gb:
        raise QuotaExceeded(
            "Quota exceeded",
            f"The tenant stores {used_gb:.6f} GB of its {quota.max_storage_gb} GB quota",
            quota={"resource": "storage_gb", "limit": quota.max_storage_gb},
        )
