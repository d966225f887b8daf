"""Quotas, monthly usage and the bill, on the in-memory stores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mlops_bot.errors import ValidationFailed
from mlops_bot.management.accounts import quotas, usage
from mlops_bot.management.accounts.quotas import ResourceQuota
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


def event(action: str, event_name: str = "workflow_run") -> dict[str, Any]:
    return {"received_at": "2026-11-05T10:00:00Z", "summary": {"event": event_name, "action": action}}


def test_the_bill_counts_completed_runs_carried_out_actions_data_and_calls() -> None:
    incidents = [
        {
            "actions_taken": [
                {"timestamp": "2026-11-05T10:00:00Z", "status": "success"},
                {"timestamp": "2026-11-06T10:00:00Z", "status": "planned"},  # a dry run is not billed
                {"executed_at": "2026-10-31T23:59:59Z", "status": "success"},  # another month
            ]
        }
    ]
    events = [event("completed"), event("completed"), event("requested"), event("opened", "pull_request")]
    billed = usage.usage_of("t", *NOVEMBER, events=events, incidents=incidents, api_calls=2500)
    assert billed.metrics.pipeline_executions == 2
    assert billed.metrics.healing_actions == 1
    assert billed.metrics.api_calls == 2500
    assert 0 < billed.metrics.data_processed_gb < 0.000001
    # 49 base + 2 x 0.01 + 1 x 0.50 + ~0 data + 2.5 x 0.20
    assert billed.billing_amount == 50.02
    assert billed.usage_period.start == "2026-11-01T00:00:00Z" and billed.usage_period.end == "2026-11-30T23:59:59Z"
    assert [line.item for line in billed.line_items] == list(usage.PRICE_TABLE)


def test_a_month_that_is_not_yyyy_mm_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        usage.month_bounds("2026-13")
    assert usage.month_bounds("2024-02")[1].day == 29
