"""Management API request counters for `/metrics`: requests, latency and errors, fleet-wide.

Each authenticated request adds one to its (method, route template, status) item in the table
and its duration to that item's histogram buckets, in one atomic update, so every Lambda
instance counts into the same monotonic counters Prometheus expects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys

logger = logging.getLogger(__name__)

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def bucket_field(bound: float) -> str:
    return "le_" + repr(bound).replace(".", "_")


@dataclass(frozen=True)
class RequestCount:
    method: str
    route: str
    status: int
    count: int
    duration_seconds: float
    buckets: dict[float, int]


def record(table: StateTable, tenant_id: str, method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request; a failure to count is logged, never the caller's problem."""
    increments = {"count": 1, "duration_us": max(0, round(seconds * 1_000_000))}
    increments.update({bucket_field(b): 1 for b in BUCKETS if seconds <= b})
    try:
        table.set_fields(
            keys.request_metrics_key(tenant_id, method, route, status),
            {"method": method, "route": route, "status": status, "entity": "request_metrics"},
            increments=increments,
        )
    except Exception:  # metrics must never break the answer
        logger.exception("request metrics not recorded", extra={"route": route, "status": status})


def counts(table: StateTable, tenant_id: str) -> list[RequestCount]:
    return [
        RequestCount(
            method=str(item.get("method", "")),
            route=str(item.get("route", "")),
            status=int(item.get("status", 0)),
            count=int(item.get("count", 0)),
            duration_seconds=int(item.get("duration_us", 0)) / 1_000_000,
            buckets={b: int(item.get(bucket_field(b), 0)) for b in BUCKETS},
        )
        for item in table.query(keys.request_metrics_pk(tenant_id))
    ]
