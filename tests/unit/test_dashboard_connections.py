"""Dashboard connections and the open-incident metric on the in-memory stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mlops_bot.access.api_keys import Principal
from mlops_bot.dashboard import connections
from mlops_bot.dashboard.messages import MetricsSources, system_metrics
from mlops_bot.errors import NotFound, RateLimited
from mlops_bot.stores.dashboard_connections import InMemoryDashboardConnectionStore
from mlops_bot.stores.incidents import Incident, InMemoryIncidentStore

T0 = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def principal(tenant: str = "acme", key_id: str = "key-dana") -> Principal:
    return Principal(key_id=key_id, tenant_id=tenant, name=key_id, permissions=["read"])


def test_ten_connections_per_user_then_a_retry_after_until_the_first_expires() -> None:
    store = InMemoryDashboardConnectionStore()
    for n in range(10):
        connections.register(store, principal(), f"c{n}", now=T0)
    with pytest.raises(RateLimited) as refused:
        connections.register(store, principal(), "c10", now=T0 + timedelta(minutes=30))
    assert refused.value.retry_after == 90 * 60
    assert connections.register(store, principal(key_id="key-eli"), "eli", now=T0).slot == 0  # per user
    assert connections.disconnect(store, "c3")
    assert connections.register(store, principal(), "c10", now=T0).slot == 3


def test_an_expired_connection_is_neither_listed_nor_found_nor_subscribable() -> None:
    store = InMemoryDashboardConnectionStore()
    connections.register(store, principal(), "c0", now=T0)
    later = T0 + timedelta(hours=3)
    assert connections.lookup(store, "c0", now=T0) is not None
    assert connections.lookup(store, "c0", now=later) is None
    assert connections.tenant_connections(store, "acme", now=later) == []
    with pytest.raises(NotFound):
        connections.subscribe(store, "c0", ["failure_alerts"], now=later)


def test_system_metrics_count_the_tenants_open_incidents() -> None:
    incidents = InMemoryIncidentStore()
    for n, (tenant, status) in enumerate([("acme", "open"), ("acme", "verifying"), ("acme", "failed"), ("b", "open")]):
        incidents.open_or_update(
            Incident(
                id=f"inc-{n}",
                tenant_id=tenant,
                repository="acme/model",
                type="pipeline_failure",
                severity="high",
                status=status,
                description="CI failed",
                detected_at="2027-01-15T08:00:00.000000Z",
            )
        )
    assert system_metrics(MetricsSources(incidents), "acme").data == {"open_incidents": 2}
