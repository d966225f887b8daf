"""Recurring failures of a tenant (`GET /api/analytics/patterns`): its incidents, clustered and forecast.

The incidents come from the tenant's `IncidentStore`; the clustering and the recurrence model are
`mlops_bot.analytics.patterns`, pure functions the benchmark and the tests run as well.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mlops_bot.analytics.patterns import PatternsReport, parse_period, report
from mlops_bot.errors import ValidationFailed
from mlops_bot.stores.incidents import IncidentStore


def window_start(now: datetime, *, period: str | None = None, since: datetime | None = None) -> datetime | None:
    """Where the look-back starts: `since` (naive means UTC) wins over `period` (`24h`, `7d`, `2w`...)."""
    if since is not None:
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    if period is None:
        return None
    try:
        return now - parse_period(period)
    except ValueError as exc:
        raise ValidationFailed("Request validation failed", f"query.period: {exc}") from exc


def failure_patterns(
    incidents: IncidentStore,
    tenant_id: str,
    now: datetime,
    *,
    repository: str | None = None,
    period: str | None = None,
    since: datetime | None = None,
    min_frequency: int = 2,
) -> PatternsReport:
    """The tenant's failures seen at least `min_frequency` times in the window, most frequent first."""
    start = window_start(now, period=period, since=since)
    found = [incident.model_dump(mode="json") for incident in incidents.all(tenant_id)]
    return report(found, now, min_frequency=min_frequency, repository=repository, since=start)
