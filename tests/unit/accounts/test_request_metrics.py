"""The request counters behind `/metrics`, on the in-memory store."""

from __future__ import annotations

import logging

import pytest

from mlops_bot.management.reports import request_metrics
from mlops_bot.stores.request_metrics import InMemoryRequestMetricsStore, RequestCounter


def test_answered_requests_are_counted_per_route_and_status_with_latency_buckets() -> None:
    store = InMemoryRequestMetricsStore()
    request_metrics.record(store, "t", "GET", "/api/tenants", 200, 0.04)
    request_metrics.record(store, "t", "GET", "/api/tenants", 200, 3.0)
    request_metrics.record(store, "t", "GET", "/api/tenants", 404, 0.001)
    request_metrics.record(store, "other", "GET", "/api/tenants", 200, 0.04)
    ok, missing = request_metrics.counts(store, "t")
    assert (ok.status, ok.count, missing.status, missing.count) == (200, 2, 404, 1)
    assert ok.duration_seconds == pytest.approx(3.04)
    assert [ok.buckets[b] for b in request_metrics.BUCKETS] == [0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2]


class UnreachableStore:
    def add(self, tenant_id: str, method: str, route: str, status: int, seconds: float) -> None:
        raise ConnectionError("the table is unreachable")

    def counters(self, tenant_id: str) -> list[RequestCounter]:
        return []


def test_a_request_that_cannot_be_counted_is_logged_and_the_answer_goes_out(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        request_metrics.record(UnreachableStore(), "t", "GET", "/api/tenants", 200, 0.01)
    assert "request metrics not recorded" in caplog.text
