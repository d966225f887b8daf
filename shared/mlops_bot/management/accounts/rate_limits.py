"""Per-tenant rate limits by endpoint category, counted atomically in DynamoDB.

A fixed window per tenant and category: one atomic count per request on the window's item
(`stores.rate_windows`, which expires it two windows later), so concurrent Lambda instances share
the count. Health checks are not limited; webhooks have their own limit in the ingress.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mlops_bot.clock import epoch_seconds, utc_now
from mlops_bot.stores.rate_windows import RateCategory, RateWindowStore

Category = Literal["management", "analytics", "webhooks"]


@dataclass(frozen=True)
class RateDecision:
    category: Category
    limit: int
    count: int
    reset: int
    window_seconds: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Window": str(self.window_seconds),
        }


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
