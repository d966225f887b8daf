"""The periodic sweep: one `scheduled_check` event per enrolled, active repository.

Tenants are listed from the registry under the reserved `_system` tenant, then each tenant's own
partition is queried, so no query ever crosses tenants.
"""

from __future__ import annotations

import uuid

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.clock import iso, utc_now
from mlops_bot.storage import keys
from mlops_bot.webhooks.models import RepositoryEvent


def tenants(table: StateTable) -> list[str]:
    return [str(item["tenant_id"]) for item in table.query(keys.tenant_registry_pk(), "TENANT#")]


def queue_scheduled_checks(table: StateTable, events_queue: Queue) -> int:
    queued = 0
    now = iso(utc_now())
    for tenant_id in tenants(table):
        for repository in table.query(keys.tenant_pk(tenant_id), "REPO#"):
            if repository.get("status") != "active":
                continue
            check_id = str(uuid.uuid4())
            event = RepositoryEvent(
                tenant_id=tenant_id,
                delivery_id=f"scheduled-{check_id}",
                execution_id=check_id,
                event="scheduled_check",
                received_at=now,
                repository=str(repository["full_name"]),
            )
            events_queue.send(event.model_dump(mode="json", exclude_none=True), {"tenant_id": tenant_id})
            queued += 1
    return queued
