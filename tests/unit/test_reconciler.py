"""`reconcile` on the in-memory stores: a webhook GitHub failed to deliver is redelivered once."""

from __future__ import annotations

from mlops_bot.adapters.github import HookDelivery
from mlops_bot.reconciliation.service import ReconcilerStores, reconcile
from mlops_bot.stores.deliveries import Delivery, InMemoryDeliveryStore
from mlops_bot.stores.redeliveries import InMemoryRedeliveryRequestStore
from mlops_bot.stores.repositories import InMemoryRepositoryStore


class Deliveries:
    """GitHub's record of delivery attempts, and the redeliveries asked of it."""

    def __init__(self, attempts: list[HookDelivery]) -> None:
        self.attempts = attempts
        self.redelivered: list[int] = []

    def list_deliveries(self, per_page: int = 100, max_pages: int = 5) -> list[HookDelivery]:
        return list(self.attempts)

    def redeliver(self, delivery_id: int) -> None:
        self.redelivered.append(delivery_id)


def stores() -> ReconcilerStores:
    return ReconcilerStores(InMemoryRepositoryStore(), InMemoryDeliveryStore(), InMemoryRedeliveryRequestStore())


def queued(tenant: str, guid: str) -> Delivery:
    return Delivery(
        tenant_id=tenant,
        delivery_id=guid,
        event="workflow_run",
        execution_id=f"exec-{guid}",
        received_at="2026-11-27T10:00:00Z",
        expires_at=1_900_000_000,
    )


def test_a_lost_delivery_is_redelivered_once_by_its_newest_attempt() -> None:
    github = Deliveries(
        [
            HookDelivery(id=1, guid="guid-lost", status_code=500, installation_id=7),
            HookDelivery(id=3, guid="guid-lost", status_code=502, installation_id=7, redelivery=True),
            HookDelivery(id=2, guid="guid-ok", status_code=202, installation_id=7),
        ]
    )
    known = stores()
    report = reconcile(known, github)
    assert (report.examined, report.already_delivered, report.redelivered) == (2, 1, ["guid-lost"])
    assert github.redelivered == [3]
    again = reconcile(known, github)
    assert (again.redelivered, again.already_requested) == ([], 1)
    assert github.redelivered == [3]


def test_a_delivery_queued_under_the_installations_tenant_is_not_redelivered() -> None:
    known = stores()
    known.routes.claim_installation(7, "acme")
    delivery = queued("acme", "guid-timed-out")
    known.deliveries.claim(delivery)
    known.deliveries.mark_queued(delivery, "2026-11-27T10:00:01Z")
    merely_received = queued("acme", "guid-received")
    known.deliveries.claim(merely_received)  # claimed but never queued: the ingress died
    github = Deliveries(
        [
            HookDelivery(id=1, guid="guid-timed-out", status_code=504, installation_id=7),
            HookDelivery(id=2, guid="guid-received", status_code=504, installation_id=7),
            HookDelivery(id=4, guid="guid-other-tenant", status_code=504, installation_id=8),
        ]
    )
    known.deliveries.claim(queued("acme", "guid-other-tenant"))  # installation 8 routes to `default`
    report = reconcile(known, github)
    assert report.already_delivered == 1
    assert sorted(report.redelivered) == ["guid-other-tenant", "guid-received"]
