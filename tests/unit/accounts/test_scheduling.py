"""The periodic sweep's fan-out: one check per active repository of each registered tenant."""

from __future__ import annotations

from typing import Any

from mlops_bot.messages import RepositoryEvent
from mlops_bot.scheduling.service import SchedulingStores, queue_scheduled_checks, tenants
from mlops_bot.storage import keys
from mlops_bot.stores.repositories import InMemoryRepositoryStore, Repository, RepositoryStatus
from mlops_bot.stores.tenants import InMemoryTenantStore

NOW = "2026-11-27T10:00:00Z"


class SentMessages:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], dict[str, str] | None]] = []

    def send(self, body: dict[str, Any], attributes: dict[str, str] | None = None) -> str:
        self.sent.append((body, attributes))
        return f"msg-{len(self.sent)}"


def enrolled(store: InMemoryRepositoryStore, tenant: str, name: str, status: RepositoryStatus) -> None:
    store.enroll(Repository(tenant_id=tenant, full_name=name, status=status, created_at=NOW))


def test_every_active_repository_of_every_registered_tenant_gets_one_check() -> None:
    registry, repositories = InMemoryTenantStore(), InMemoryRepositoryStore()
    for tenant in ("acme", "globex", keys.SYSTEM_TENANT):
        registry.register(tenant, NOW)
    enrolled(repositories, "acme", "acme/model", RepositoryStatus.ACTIVE)
    enrolled(repositories, "acme", "acme/paused", RepositoryStatus.PAUSED)
    enrolled(repositories, "globex", "globex/train", RepositoryStatus.ACTIVE)
    enrolled(repositories, "globex", "globex/broken", RepositoryStatus.ERROR)
    enrolled(repositories, "initech", "initech/unregistered", RepositoryStatus.ACTIVE)
    queue = SentMessages()

    assert queue_scheduled_checks(SchedulingStores(registry, repositories), queue) == 2

    events = [(RepositoryEvent.model_validate(body), attributes) for body, attributes in queue.sent]
    assert sorted((e.tenant_id, e.repository, a) for e, a in events) == [
        ("acme", "acme/model", {"tenant_id": "acme"}),
        ("globex", "globex/train", {"tenant_id": "globex"}),
    ]
    assert all(e.event == "scheduled_check" and e.delivery_id == f"scheduled-{e.execution_id}" for e, _ in events)
    assert len({e.execution_id for e, _ in events}) == 2
    assert tenants(registry) == ["acme", "globex"]


def test_no_registered_tenant_means_no_checks() -> None:
    queue = SentMessages()
    assert queue_scheduled_checks(SchedulingStores(InMemoryTenantStore(), InMemoryRepositoryStore()), queue) == 0
    assert queue.sent == []
