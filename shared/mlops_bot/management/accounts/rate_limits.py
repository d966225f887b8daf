"""Per-tenant rate limits by endpoint category, counted atomically in DynamoDB.

A fixed window per tenant and category: one atomic count per request on the window's item
(`stores.rate_windows`, which expires it two windows later), so concurrent Lambda instances share
the count. Health checks are not limited; webhooks have their own limit in the ingress.
"""

from __future__ import annotations

from mlops_bot.clock import epoch_seconds, utc_now
from mlops_bot.stores.rate_windows import Category, RateCategory, RateDecision, RateWindowStore

__all__ = ["Category", "RateDecision", "count_request"]


def count_request(
    windows: RateWindowStore,
    tenant_id: str,
    category: Category,
    limit: int,
    window_seconds: int,
    now: int | None = None,
) -> RateDecision:
    """Count one request of `tenant_id` in `category` and say whether it is within `limit`."""
    moment = epoch_seconds(utc_now()) if now is None else now
    window = moment // window_seconds
    reset = (window + 1) * window_seconds
    count = windows.count(tenant_id, RateCategory(category), window, expires_at=reset + window_seconds)
    return RateDecision(
        category=category,
        limit=limit,
        count=count,
        reset=reset,
        window_seconds=window_seconds,
        retry_after=max(1, reset - moment),
    )
