"""Per-tenant, per-category fixed windows on the in-memory store."""

from __future__ import annotations

from mlops_bot.management.accounts import rate_limits
from mlops_bot.stores.rate_windows import InMemoryRateWindowStore, RateCategory


def test_requests_over_the_limit_in_one_window_are_exceeded_until_the_next_window() -> None:
    store = InMemoryRateWindowStore()
    decisions = [rate_limits.count_request(store, "t", "management", 2, 60, now=1_000) for _ in range(3)]
    assert [d.exceeded for d in decisions] == [False, False, True]
    assert [d.remaining for d in decisions] == [1, 0, 0]
    third = decisions[-1]
    assert third.reset == 1_020 and third.retry_after == 20
    assert third.headers() == {
        "X-RateLimit-Limit": "2",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1020",
        "X-RateLimit-Window": "60",
    }
    assert not rate_limits.count_request(store, "t", "management", 2, 60, now=1_020).exceeded


def test_each_tenant_and_category_has_its_own_window() -> None:
    store = InMemoryRateWindowStore()
    for _ in range(2):
        rate_limits.count_request(store, "t", "analytics", 2, 60, now=1_000)
    assert not rate_limits.count_request(store, "t", "management", 2, 60, now=1_000).exceeded
    assert not rate_limits.count_request(store, "other", "analytics", 2, 60, now=1_000).exceeded
    assert rate_limits.count_request(store, "t", "analytics", 2, 60, now=1_000).exceeded
    assert store.current("t", RateCategory.ANALYTICS, 1_000 // 60) == 3


def test_the_last_second_of_a_window_waits_one_second() -> None:
    decision = rate_limits.count_request(InMemoryRateWindowStore(), "t", "management", 1, 60, now=1_019)
    assert decision.retry_after == 1
