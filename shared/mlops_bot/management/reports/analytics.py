"""Dashboard analytics over a period: summary, hourly series, breakdown by type, top repositories.

Counted from the tenant's recorded events (kept `event_ttl_days`) and incidents; the period's
issues are those detected in it, resolved or not.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from statistics import mean
from typing import Literal

from pydantic import BaseModel

from mlops_bot.clock import utc_now
from mlops_bot.management.reports import records
from mlops_bot.stores.events import EventRecord, EventStore
from mlops_bot.stores.incidents import Incident, IncidentStatus, IncidentStore

Period = Literal["1h", "24h", "7d", "30d"]
MetricType = Literal["events", "issues", "resolutions"]
PERIODS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
TOP = 10


class Point(BaseModel):
    timestamp: str
    value: float | None


class Summary(BaseModel):
    total_events: int
    issues_detected: int
    issues_resolved: int
    resolution_rate: float | None
    average_resolution_time: float | None
    most_common_issue_type: str | None


class TypeBreakdown(BaseModel):
    count: int
    resolved: int


class TopRepository(BaseModel):
    repository: str
    events: int
    issues: int


class Analytics(BaseModel):
    period: Period
    repository: str | None = None
    summary: Summary
    timeseries: dict[str, list[Point]]
    breakdown_by_type: dict[str, TypeBreakdown]
    top_repositories: list[TopRepository]


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _series(hours: list[datetime], values: dict[datetime, list[float]], average: bool) -> list[Point]:
    points = []
    for hour in hours:
        found = values.get(hour, [])
        value: float | None = (round(mean(found), 1) if found else None) if average else float(len(found))
        points.append(Point(timestamp=_stamp(hour), value=value))
    return points


def analytics(
    incidents: IncidentStore,
    events: EventStore,
    tenant_id: str,
    period: Period,
    repository: str | None = None,
    metric_type: MetricType | None = None,
    now: datetime | None = None,
) -> Analytics:
    until = now or utc_now()
    since = until - PERIODS[period]
    wanted = repository.lower() if repository else None

    def mine(item: EventRecord | Incident) -> bool:
        return wanted is None or item.repository.lower() == wanted

    received = [e for e in events.of_tenant(tenant_id, since=since, until=until) if mine(e)]
    detected = [
        i
        for i in incidents.all(tenant_id)
        if mine(i) and (t := records.parse_time(i.detected_at)) is not None and since <= t <= until
    ]
    resolved = [i for i in detected if i.status == IncidentStatus.RESOLVED]
    times = [float(i.resolution_time) for i in resolved if i.resolution_time is not None]
    types = Counter(i.type.value for i in detected)

    hours = []
    cursor = _hour(since)
    while cursor <= until:
        hours.append(cursor)
        cursor += timedelta(hours=1)
    event_hours: dict[datetime, list[float]] = defaultdict(list)
    for event in received:
        if (at := records.parse_time(event.received_at)) is not None:
            event_hours[_hour(at)].append(1.0)
    issue_hours: dict[datetime, list[float]] = defaultdict(list)
    for incident in detected:
        if (at := records.parse_time(incident.detected_at)) is not None:
            issue_hours[_hour(at)].append(1.0)
    resolution_hours: dict[datetime, list[float]] = defaultdict(list)
    for incident in resolved:
        at = records.parse_time(incident.resolved_at)
        if at is not None and incident.resolution_time is not None:
            resolution_hours[_hour(at)].append(float(incident.resolution_time))
    series = {
        "events_per_hour": _series(hours, event_hours, average=False),
        "issues_per_hour": _series(hours, issue_hours, average=False),
        "resolution_times": _series(hours, resolution_hours, average=True),
    }
    chosen = {"events": "events_per_hour", "issues": "issues_per_hour", "resolutions": "resolution_times"}
    if metric_type:
        series = {chosen[metric_type]: series[chosen[metric_type]]}

    by_type: dict[str, TypeBreakdown] = {}
    for issue_type, count in types.items():
        by_type[issue_type] = TypeBreakdown(
            count=count, resolved=sum(1 for i in resolved if i.type.value == issue_type)
        )
    repo_events = Counter(e.repository for e in received)
    repo_issues = Counter(i.repository for i in detected)
    names = sorted(set(repo_events) | set(repo_issues), key=lambda r: (-repo_events[r], -repo_issues[r], r))
    return Analytics(
        period=period,
        repository=repository,
        summary=Summary(
            total_events=len(received),
            issues_detected=len(detected),
            issues_resolved=len(resolved),
            resolution_rate=round(len(resolved) / len(detected), 4) if detected else None,
            average_resolution_time=round(mean(times), 1) if times else None,
            most_common_issue_type=types.most_common(1)[0][0] if types else None,
        ),
        timeseries=series,
        breakdown_by_type=by_type,
        top_repositories=[
            TopRepository(repository=r, events=repo_events[r], issues=repo_issues[r]) for r in names[:TOP] if r
        ],
    )
