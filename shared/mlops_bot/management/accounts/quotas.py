"""Tenant quotas: `max_pipelines`, `max_users` (counters) and `max_storage_gb` (measured).

The counters live on the tenant's `COUNTERS` item and move in the same DynamoDB transaction as
the pipeline or user they count (`stores.pipelines`, `stores.users`): a slot is taken only with a
creation and given back only by the one delete that removed the thing, however many race. Storage
is measured from the tenant's records when something would add to it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.errors import Forbidden
from mlops_bot.storage import keys

Counter = Literal["pipeline_count", "user_count"]
RESOURCE_OF: dict[Counter, str] = {"pipeline_count": "pipelines", "user_count": "users"}


class ResourceQuota(BaseModel):
    """The spec's `resource_quota`; defaults apply to tenants created without one (e.g. `default`)."""

    model_config = ConfigDict(extra="forbid")

    max_pipelines: int = Field(default=100, ge=0, le=100_000)
    max_storage_gb: float = Field(default=500, ge=0, le=1_000_000)
    max_users: int = Field(default=50, ge=0, le=100_000)


class QuotaExceeded(Forbidden):
    code = "QUOTA_EXCEEDED"


def quota_of(table: StateTable, tenant_id: str) -> ResourceQuota:
    profile = table.get(keys.tenant_profile_key(tenant_id), consistent=False) or {}
    return ResourceQuota.model_validate(profile.get("resource_quota") or {})


def counters(table: StateTable, tenant_id: str) -> dict[str, int]:
    item = table.get(keys.tenant_counters_key(tenant_id)) or {}
    return {name: int(item.get(name, 0)) for name in RESOURCE_OF}


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
