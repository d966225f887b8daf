"""Failure patterns of the caller's tenant (Healing Guard's `GET /api/analytics/patterns`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.analytics.patterns import PatternsReport, parse_period, report
from mlops_bot.api.dependencies import require, state_table
from mlops_bot.clock import utc_now
from mlops_bot.errors import ValidationFailed
from mlops_bot.storage import keys

router = APIRouter(prefix="/api/analytics", tags=["analytics"])


@router.get("/patterns")
def failure_patterns(
    caller: Annotated[Principal, Depends(require("read", "analytics"))],
    table: Annotated[StateTable, Depends(state_table)],
    repository: Annotated[str | None, Query(min_length=3, max_length=200)] = None,
    period: Annotated[str | None, Query(description="Look-back window: 24h, 7d, 2w...")] = None,
    since: Annotated[datetime | None, Query(description="Only incidents detected at or after (ISO-8601)")] = None,
    min_frequency: Annotated[int, Query(ge=1, le=100_000)] = 2,
) -> PatternsReport:
    """Recurring failures, most frequent first; `since` wins over `period` when both are given."""
    now = utc_now()
    start: datetime | None = None
    if since is not None:
        start = since if since.tzinfo else since.replace(tzinfo=UTC)
    elif period is not None:
        try:
            start = now - parse_period(period)
        except ValueError as exc:
            raise ValidationFailed("Request validation failed", f"query.period: {exc}") from exc
    incidents = table.query(keys.incidents_index(caller.tenant_id), by_index=True)
    return report(incidents, now, min_frequency=min_frequency, repository=repository, since=start)
