"""The periodic sweep: one `scheduled_check` event per enrolled, active repository.

Tenants are listed from the registry under the reserved `_system` tenant (`stores.tenants`), then
each tenant's own repositories (`stores.repositories`), so no read ever crosses tenants.

The functions take typed stores; the scheduler's handler builds them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from mlops_bot.clock import iso, utc_now
from mlops_bot.messages import MessageQueue, RepositoryEvent
from mlops_bot.stores.repositories import RepositoryStatus, RepositoryStore
from mlops_bot.stores.tenants import TenantStore


@dataclass(frozen=True)
class SchedulingStores:
    tenants: TenantStore
    repositories: RepositoryStore


def tenants(registry: TenantStore) -> list[str]:
    """Every registered tenant's id (never the reserved `_system` tenant)."""
    return [registration.tenant_id for registration in registry.registered()]


def queue_scheduled_checks(stores: SchedulingStores, events_queue: MessageQueue) -> int:
    """Queue one check per active repository of every registered tenant; returns how many were queued."""
    queued = 0
    now = iso(utc_now())
    for tenant_id in tenants(stores.tenants):
        for repository in stores.repositories.of_tenant(tenant_id):
            if repository.status is not RepositoryStatus.ACTIVE:
                continue
            check_id = str(uuid.uuid4())
            event = RepositoryEvent(
                tenant_id=tenant_id,
                delivery_id=f"scheduled-{check_id}",
                execution_id=check_id,
                event="scheduled_check",
                received_at=now,
                repository=repository.full_name,
            )
            events_queue.send(event.model_dump(mode="json", exclude_none=True), {"tenant_id": tenant_id})
            queued += 1
    return queued
