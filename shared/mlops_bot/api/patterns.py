"""Failure patterns of the caller's tenant (Healing Guard's `GET /api/analytics/patterns`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from mlops_bot.access.api_keys import Principal
from mlops_bot.analytics.patterns import PatternsReport
from mlops_bot.api.dependencies import incident_store, require
from mlops_bot.clock import utc_now
from mlops_bot.management.reports import patterns as service
from mlops_bot.stores.incidents import IncidentStore

router = APIRouter(prefix="/api/analytics", tags=["analytics"])


@router.get("/patterns")
def failure_patterns(
    caller: Annotated[Principal, Depends(require("read", "analytics"))],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
    repository: Annotated[str | None, Query(min_length=3, max_length=200)] = None,
    period: Annotated[str | None, Query(description="Look-back window: 24h, 7d, 2w...")] = None,
    since: Annotated[datetime | None, Query(description="Only incidents detected at or after (ISO-8601)")] = None,
    min_frequency: Annotated[int, Query(ge=1, le=100_000)] = 2,
) -> PatternsReport:
    """Recurring failures, most frequent first; `since` wins over `period` when both are given."""
    return service.failure_patterns(
        incidents,
        caller.tenant_id,
        utc_now(),
        repository=repository,
        period=period,
        since=since,
        min_frequency=min_frequency,
    )
