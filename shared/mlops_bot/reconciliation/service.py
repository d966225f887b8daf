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

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.github import HookDelivery
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.storage import keys


class DeliveriesSource(Protocol):
    def list_deliveries(self, per_page: int = 100, max_pages: int = 5) -> list[HookDelivery]: ...

    def redeliver(self, delivery_id: int) -> None: ...


@dataclass
class ReconcileReport:
    examined: int = 0
    already_delivered: int = 0
    already_requested: int = 0
    redelivered: list[str] = field(default_factory=list)


def _stored(table: StateTable, guid: str, installation_id: int | None) -> bool:
    if installation_id is None:
        return False
    route = table.get(keys.installation_route_key(installation_id), consistent=False)
    tenant = (route or {}).get("tenant_id") or keys.DEFAULT_TENANT
    item = table.get(keys.delivery_key(str(tenant), guid))
    return bool(item and item.get("status") == "queued")


def reconcile(table: StateTable, source: DeliveriesSource, max_pages: int = 5) -> ReconcileReport:
    report = ReconcileReport()
    attempts: dict[str, list[HookDelivery]] = defaultdict(list)
    for delivery in source.list_deliveries(max_pages=max_pages):
        attempts[delivery.guid].append(delivery)
    report.examined = len(attempts)
    for guid, tries in attempts.items():
        if any(200 <= t.status_code < 300 for t in tries) or _stored(table, guid, tries[0].installation_id):
            report.already_delivered += 1
            continue
        marker = {
            **keys.reconcile_marker_key(guid),
            "guid": guid,
            "requested_at": iso(utc_now()),
            "expires_at": epoch_seconds(utc_now() + timedelta(days=4)),
        }
        if not table.put_new(marker):
            report.already_requested += 1
            continue
        newest = max(tries, key=lambda t: t.id)
        source.redeliver(newest.id)
        report.redelivered.append(guid)
    return report
