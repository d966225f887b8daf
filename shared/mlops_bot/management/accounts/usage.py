"""What a tenant used in a calendar month, counted from its records, and what that costs.

The price table is the one documented in docs/api.md; amounts are computed in Decimal and rounded
half-up to the cent. API calls are counted per month and stored bytes measured by `stores.usage`;
executions, healing actions and data processed are read from the tenant's records.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, Field

from mlops_bot.clock import utc_now
from mlops_bot.errors import ValidationFailed
from mlops_bot.management.reports import records
from mlops_bot.stores.events import ReceivedEvent
from mlops_bot.stores.incidents import Incident
from mlops_bot.stores.usage import UsageStore

GB = 1_000_000_000

# USD per month. Dry-run plans are not billed: a healing action counts once it was carried out.
PRICE_TABLE: dict[str, Decimal] = {
    "base_fee": Decimal("49.00"),
    "pipeline_execution": Decimal("0.01"),
    "healing_action": Decimal("0.50"),
    "data_processed_gb": Decimal("0.10"),
    "api_calls_per_1000": Decimal("0.20"),
}
UNBILLED_ACTION_STATUSES = frozenset({"planned", "refused", "skipped", "rate_limited"})


class UsagePeriod(BaseModel):
    start: str
    end: str


class UsageMetrics(BaseModel):
    pipeline_executions: int
    healing_actions: int
    data_processed_gb: float
    api_calls: int


class LineItem(BaseModel):
    item: str
    quantity: float
    unit_price: float
    amount: float


class TenantUsage(BaseModel):
    tenant_id: str
    usage_period: UsagePeriod
    metrics: UsageMetrics
    billing_amount: float
    currency: str = "USD"
    line_items: list[LineItem] = Field(default_factory=list)


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def record_api_call(store: UsageStore, tenant_id: str, now: datetime | None = None) -> None:
    store.add_api_call(tenant_id, month_of(now or utc_now()))


def month_bounds(month: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    if month is None:
        month = month_of(now or utc_now())
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValidationFailed("Invalid month", "Use YYYY-MM") from exc
    last_day = calendar.monthrange(start.year, start.month)[1]
    end = start.replace(day=last_day, hour=23, minute=59, second=59)
    return start, end


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def bill(metrics: UsageMetrics) -> tuple[Decimal, list[LineItem]]:
    quantities = {
        "base_fee": Decimal(1),
        "pipeline_execution": Decimal(metrics.pipeline_executions),
        "healing_action": Decimal(metrics.healing_actions),
        "data_processed_gb": Decimal(str(metrics.data_processed_gb)),
        "api_calls_per_1000": Decimal(metrics.api_calls) / Decimal(1000),
    }
    lines = []
    total = Decimal(0)
    for item, quantity in quantities.items():
        amount = quantity * PRICE_TABLE[item]
        total += amount
        lines.append(
            LineItem(
                item=item,
                quantity=float(quantity),
                unit_price=float(PRICE_TABLE[item]),
                amount=float(_money(amount)),
            )
        )
    return _money(total), lines


def tenant_usage(
    sources: records.TenantRecords, calls: UsageStore, tenant_id: str, month: str | None = None
) -> TenantUsage:
    """The month's usage and bill: executions, healing actions and data from the tenant's records
    (`sources`), the API calls from their monthly counter (`calls`)."""
    start, end = month_bounds(month)
    return usage_of(
        tenant_id,
        start,
        end,
        events=records.tenant_events(sources.events, tenant_id, start, end),
        incidents=records.tenant_incidents(sources.incidents, tenant_id),
        api_calls=calls.month(tenant_id, month_of(start)).api_calls,
    )


def usage_of(
    tenant_id: str,
    start: datetime,
    end: datetime,
    *,
    events: list[ReceivedEvent],
    incidents: list[Incident],
    api_calls: int,
) -> TenantUsage:
    """The usage and bill of [start, end] from the period's events, the tenant's incidents and its calls."""
    executions = sum(
        1 for e in events if e.summary.get("event") == "workflow_run" and e.summary.get("action") == "completed"
    )
    healing_actions = 0
    for incident in incidents:
        for action in incident.actions_taken:
            at = records.parse_time(action.get("timestamp") or action.get("executed_at"))
            if at and start <= at <= end and str(action.get("status")) not in UNBILLED_ACTION_STATUSES:
                healing_actions += 1
    metrics = UsageMetrics(
        pipeline_executions=executions,
        healing_actions=healing_actions,
        data_processed_gb=round(sum(records.item_bytes(e) for e in events) / GB, 9),
        api_calls=api_calls,
    )
    amount, lines = bill(metrics)
    return TenantUsage(
        tenant_id=tenant_id,
        usage_period=UsagePeriod(start=_stamp(start), end=_stamp(end)),
        metrics=metrics,
        billing_amount=float(amount),
        line_items=lines,
    )


def storage_gb(store: UsageStore, tenant_id: str) -> float:
    """What the tenant stores now: its own partition, incidents, events, audit and compliance records."""
    return round(store.stored_bytes(tenant_id) / GB, 9)
