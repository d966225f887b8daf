"""Management API request counters for `/metrics`: requests, latency and errors, fleet-wide.

Each authenticated request adds one to its (method, route template, status) counters and its
duration to their histogram buckets, in one atomic update (`stores.request_metrics`), so every
Lambda instance counts into the same monotonic counters Prometheus expects.

The functions take a `RequestMetricsStore`; a `StateTable` is still accepted (wrapped in the
DynamoDB store) for the callers that have not moved to stores yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.stores.request_metrics import BUCKETS as BUCKETS
from mlops_bot.stores.request_metrics import DynamoRequestMetricsStore, RequestMetricsStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestCount:
    method: str
    route: str
    status: int
    count: int
    duration_seconds: float
    buckets: dict[float, int]


def metrics_store(where: RequestMetricsStore | StateTable) -> RequestMetricsStore:
    return DynamoRequestMetricsStore(where) if isinstance(where, StateTable) else where


def record(
    where: RequestMetricsStore | StateTable, tenant_id: str, method: str, route: str, status: int, seconds: float
) -> None:
    """Count one answered request; a failure to count is logged, never the caller's problem."""
    try:
        metrics_store(where).add(tenant_id, method, route, status, seconds)
    except Exception:  # metrics must never break the answer
        logger.exception("request metrics not recorded", extra={"route": route, "status": status})


def counts(where: RequestMetricsStore | StateTable, tenant_id: str) -> list[RequestCount]:
    return [
        RequestCount(
            method=counter.method,
            route=counter.route,
            status=counter.status,
            count=counter.count,
            duration_seconds=counter.duration_seconds,
            buckets=dict(counter.buckets),
        )
        for counter in metrics_store(where).counters(tenant_id)
    ]
