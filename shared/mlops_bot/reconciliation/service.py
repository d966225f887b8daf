"""The reconciler: ask GitHub to redeliver webhooks that never reached us.

GitHub records each delivery attempt (the App's deliveries API, kept for 3 days) but does not
retry a failed one. Every run lists the recent attempts, groups them by delivery GUID, and for a
GUID with no successful attempt that we have not stored either, requests one redelivery. A
marker per GUID (conditional write) makes the request idempotent across runs and concurrent
reconcilers; redeliveries then flow through the normal, de-duplicating ingress.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from mlops_bot.adapters.github import HookDelivery
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.storage.keys import DEFAULT_TENANT
from mlops_bot.stores.deliveries import DeliveryStatus, DeliveryStore
from mlops_bot.stores.redeliveries import RedeliveryRequest, RedeliveryRequestStore
from mlops_bot.stores.repositories import RepositoryStore

# GitHub keeps delivery attempts for 3 days; a marker outlives that by one.
MARKER_DAYS = 4


class DeliveriesSource(Protocol):
    def list_deliveries(self, per_page: int = 100, max_pages: int = 5) -> list[HookDelivery]: ...

    def redeliver(self, delivery_id: int) -> None: ...


@dataclass
class ReconcilerStores:
    """Where the reconciler looks (routes, the ingress's deliveries) and what it records."""

    routes: RepositoryStore
    deliveries: DeliveryStore
    requests: RedeliveryRequestStore


@dataclass
class ReconcileReport:
    examined: int = 0
    already_delivered: int = 0
    already_requested: int = 0
    redelivered: list[str] = field(default_factory=list)


def _stored(stores: ReconcilerStores, guid: str, installation_id: int | None) -> bool:
    if installation_id is None:
        return False
    tenant = stores.routes.installation_owner(installation_id) or DEFAULT_TENANT
    delivery = stores.deliveries.get(tenant, guid)
    return delivery is not None and delivery.status is DeliveryStatus.QUEUED


def reconcile(stores: ReconcilerStores, source: DeliveriesSource, max_pages: int = 5) -> ReconcileReport:
    report = ReconcileReport()
    attempts: dict[str, list[HookDelivery]] = defaultdict(list)
    for delivery in source.list_deliveries(max_pages=max_pages):
        attempts[delivery.guid].append(delivery)
    report.examined = len(attempts)
    for guid, tries in attempts.items():
        if any(200 <= t.status_code < 300 for t in tries) or _stored(stores, guid, tries[0].installation_id):
            report.already_delivered += 1
            continue
        now = utc_now()
        request = RedeliveryRequest(guid=guid, requested_at=iso(now))
        if not stores.requests.request_once(request, epoch_seconds(now + timedelta(days=MARKER_DAYS))):
            report.already_requested += 1
            continue
        newest = max(tries, key=lambda t: t.id)
        source.redeliver(newest.id)
        report.redelivered.append(guid)
    return report
