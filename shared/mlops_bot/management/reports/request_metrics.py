"""Management API request counters for `/metrics`: requests, latency and errors, fleet-wide.

Each authenticated request adds one to its (method, route template, status) counters and its
duration to their histogram buckets, in one atomic update (`stores.request_metrics`), so every
Lambda instance counts into the same monotonic counters Prometheus expects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mlops_bot.stores.request_metrics import BUCKETS as BUCKETS
from mlops_bot.stores.request_metrics import RequestMetricsStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestCount:
    method: str
    route: str
    status: int
    count: int
    duration_seconds: float
    buckets: dict[float, int]


def record(store: RequestMetricsStore, tenant_id: str, method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request; a failure to count is logged, never the caller's problem."""
    try:
        store.add(tenant_id, method, route, status, seconds)
    except Exception:  # metrics must never break the answer
        logger.exception("request metrics not recorded", extra={"route": route, "status": status})


def counts(store: RequestMetricsStore, tenant_id: str) -> list[RequestCount]:
    return [
        RequestCount(
            method=counter.method,
            route=counter.route,
            status=counter.status,
            count=counter.count,
            duration_seconds=counter.duration_seconds,
            buckets=dict(counter.buckets),
        )
        for counter in store.counters(tenant_id)
    ]
