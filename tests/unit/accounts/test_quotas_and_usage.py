"""Quotas, monthly usage and the bill, on the in-memory stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mlops_bot.errors import ValidationFailed
from mlops_bot.management.accounts import quotas, usage
from mlops_bot.management.accounts.quotas import ResourceQuota
from mlops_bot.management.reports.records import TenantRecords
from mlops_bot.stores.events import EventRecord, InMemoryEventStore, ReceivedEvent
from mlops_bot.stores.incidents import Incident, InMemoryIncidentStore
from mlops_bot.stores.tenants import InMemoryTenantStore, TenantProfile
from mlops_bot.stores.usage import InMemoryUsageStore

NOVEMBER = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))


def test_a_tenant_without_a_profile_gets_the_default_quota_and_a_profile_sets_its_own() -> None:
    store = InMemoryTenantStore()
    assert quotas.quota_of(store, "t") == ResourceQuota(max_pipelines=100, max_storage_gb=500, max_users=50)
    store.save_profile(TenantProfile(tenant_id="t", resource_quota=ResourceQuota(max_storage_gb=0.001)))
    assert quotas.quota_of(store, "t").max_storage_gb == 0.001


def test_storage_at_the_quota_is_refused_with_the_quota_in_the_error() -> None:
    store = InMemoryUsageStore()
    store.set_stored_bytes("t", 2_000_000)
    quota = ResourceQuota(max_storage_gb=0.002)
    assert usage.storage_gb(store, "t") == 0.002
    with pytest.raises(quotas.QuotaExceeded) as refused:
        quotas.check_storage(usage.storage_gb(store, "t"), quota)
    assert refused.value.extra["quota"] == {"resource": "storage_gb", "limit": 0.002}
    quotas.check_storage(usage.storage_gb(store, "other"), quota)


def test_api_calls_are_counted_in_the_month_they_were_made() -> None:
    store = InMemoryUsageStore()
    usage.record_api_call(store, "t", datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    usage.record_api_call(store, "t", datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    usage.record_api_call(store, "t", datetime(2026, 12, 15, tzinfo=UTC))
    assert store.month("t", "2026-11").api_calls == 1
    assert store.month("t", "2026-12").api_calls == 2


def event(
    action: str, event_name: str = "workflow_run", received_at: str = "2026-11-05T10:00:00Z", delivery: str = "d"
) -> EventRecord:
    return EventRecord(
        tenant_id="t",
        repository="acme/model",
        delivery_id=delivery,
        execution_id="x",
        received_at=received_at,
        summary={"event": event_name, "action": action},
    )


def incident(actions: list[dict[str, Any]], incident_id: str = "inc-1", tenant_id: str = "t") -> Incident:
    return Incident(
        id=incident_id,
        tenant_id=tenant_id,
        repository="acme/model",
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at="2026-10-30T10:00:00Z",
        actions_taken=actions,
    )


ACTIONS = [
    {"timestamp": "2026-11-05T10:00:00Z", "status": "success"},
    {"timestamp": "2026-11-06T10:00:00Z", "status": "planned"},  # a dry run is not billed
    {"executed_at": "2026-10-31T23:59:59Z", "status": "success"},  # another month
]


def test_the_bill_counts_completed_runs_carried_out_actions_data_and_calls() -> None:
    events = [
        ReceivedEvent(**e.model_dump(), expires_at=1_800_000_000)
        for e in (event("completed"), event("completed"), event("requested"), event("opened", "pull_request"))
    ]
    billed = usage.usage_of("t", *NOVEMBER, events=events, incidents=[incident(ACTIONS)], api_calls=2500)
    assert billed.metrics.pipeline_executions == 2
    assert billed.metrics.healing_actions == 1
    assert billed.metrics.api_calls == 2500
    assert 0 < billed.metrics.data_processed_gb < 0.000001
    # 49 base + 2 x 0.01 + 1 x 0.50 + ~0 data + 2.5 x 0.20
    assert billed.billing_amount == 50.02
    assert billed.usage_period.start == "2026-11-01T00:00:00Z" and billed.usage_period.end == "2026-11-30T23:59:59Z"
    assert [line.item for line in billed.line_items] == list(usage.PRICE_TABLE)


def test_a_months_report_reads_only_that_months_records_of_the_tenant_from_the_stores() -> None:
    events, incidents, calls = InMemoryEventStore(), InMemoryIncidentStore(), InMemoryUsageStore()
    for delivery, received in (
        ("oct", "2026-10-31T23:59:59Z"),
        ("nov-1", "2026-11-01T00:00:00Z"),
        ("nov-2", "2026-11-30T23:59:59Z"),
        ("dec", "2026-12-01T00:00:00Z"),
    ):
        events.record(event("completed", received_at=received, delivery=delivery), expires=NOVEMBER[1] + timedelta(90))
    theirs = event("completed", delivery="theirs").model_copy(update={"tenant_id": "other"})
    events.record(theirs, expires=NOVEMBER[1])
    incidents.open_or_update(incident(ACTIONS))
    incidents.open_or_update(incident([{"timestamp": "2026-11-07T10:00:00Z", "status": "success"}], "i", "other"))
    for day in (1, 30):
        usage.record_api_call(calls, "t", datetime(2026, 11, day, tzinfo=UTC))
    usage.record_api_call(calls, "t", datetime(2026, 12, 1, tzinfo=UTC))

    november = usage.tenant_usage(TenantRecords(incidents, events), calls, "t", "2026-11")
    december = usage.tenant_usage(TenantRecords(incidents, events), calls, "t", "2026-12")

    assert november.metrics.pipeline_executions == 2  # the month's bounds are inside it
    assert november.metrics.healing_actions == 1
    assert november.metrics.api_calls == 2
    assert november.metrics.data_processed_gb > december.metrics.data_processed_gb > 0
    assert (december.metrics.pipeline_executions, december.metrics.healing_actions) == (1, 0)
    assert december.metrics.api_calls == 1


def test_a_month_that_is_not_yyyy_mm_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        usage.month_bounds("2026-13")
    assert usage.month_bounds("2024-02")[1].day == 29
