"""`/api/v1/analytics` as a service on the in-memory stores: the period's events and incidents, counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mlops_bot.clock import iso
from mlops_bot.management.reports.analytics import analytics
from mlops_bot.stores.events import EventRecord, InMemoryEventStore
from mlops_bot.stores.incidents import Incident, IncidentStatus, IncidentType, InMemoryIncidentStore, Severity

NOW = datetime(2026, 1, 2, 10, 30, tzinfo=UTC)


def stores() -> tuple[InMemoryIncidentStore, InMemoryEventStore]:
    return InMemoryIncidentStore(), InMemoryEventStore()


def add_event(events: InMemoryEventStore, repository: str, hours_ago: float, tenant: str = "t") -> None:
    delivery = f"d-{repository}-{hours_ago}-{tenant}"
    received = iso(NOW - timedelta(hours=hours_ago))
    record = EventRecord(
        tenant_id=tenant, repository=repository, delivery_id=delivery, execution_id="x", received_at=received
    )
    events.record(record, expires=NOW + timedelta(days=30))


def add_incident(
    incidents: InMemoryIncidentStore,
    incident_id: str,
    repository: str,
    hours_ago: float,
    *,
    kind: IncidentType = IncidentType.PIPELINE_FAILURE,
    resolved_after_seconds: int | None = None,
    tenant: str = "t",
) -> None:
    detected = NOW - timedelta(hours=hours_ago)
    resolved = resolved_after_seconds is not None
    incidents.open_or_update(
        Incident(
            id=incident_id,
            tenant_id=tenant,
            repository=repository,
            type=kind,
            severity=Severity.HIGH,
            status=IncidentStatus.RESOLVED if resolved else IncidentStatus.OPEN,
            description="CI failed",
            detected_at=iso(detected),
            resolved_at=iso(detected + timedelta(seconds=resolved_after_seconds or 0)) if resolved else None,
            resolution_time=resolved_after_seconds,
        )
    )


def test_hourly_buckets_are_aligned_to_the_hour() -> None:
    result = analytics(*stores(), "t", "24h", now=NOW)

    stamps = [p.timestamp for p in result.timeseries["events_per_hour"]]
    assert (stamps[0], stamps[-1]) == ("2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z")
    assert result.summary.total_events == 0 and result.summary.resolution_rate is None


def test_the_period_counts_only_its_own_events_and_incidents() -> None:
    incidents, events = stores()
    add_event(events, "acme/model", 0.5)
    add_event(events, "acme/model", 2)
    add_event(events, "acme/other", 3)
    add_event(events, "acme/model", 30)  # before the day
    add_event(events, "acme/model", 1, tenant="u")  # another tenant's
    add_incident(incidents, "i-1", "acme/model", 2, resolved_after_seconds=120)
    add_incident(incidents, "i-2", "acme/other", 3, kind=IncidentType.TEST_FAILURE)
    add_incident(incidents, "i-3", "acme/other", 4, kind=IncidentType.TEST_FAILURE)
    add_incident(incidents, "i-4", "acme/model", 48)  # before the day

    result = analytics(incidents, events, "t", "24h", now=NOW)

    summary = result.summary
    assert (summary.total_events, summary.issues_detected, summary.issues_resolved) == (3, 3, 1)
    assert (summary.resolution_rate, summary.average_resolution_time) == (0.3333, 120.0)
    assert summary.most_common_issue_type == "test_failure"
    assert {t: (b.count, b.resolved) for t, b in result.breakdown_by_type.items()} == {
        "pipeline_failure": (1, 1),
        "test_failure": (2, 0),
    }
    assert [(r.repository, r.events, r.issues) for r in result.top_repositories] == [
        ("acme/model", 2, 1),
        ("acme/other", 1, 2),
    ]
    assert [p.value for p in result.timeseries["resolution_times"] if p.value is not None] == [120.0]


def test_a_repository_and_a_metric_narrow_the_answer() -> None:
    incidents, events = stores()
    add_event(events, "acme/model", 0.2)
    add_event(events, "acme/other", 0.3)

    result = analytics(incidents, events, "t", "1h", repository="ACME/Other", metric_type="events", now=NOW)

    assert result.summary.total_events == 1
    assert list(result.timeseries) == ["events_per_hour"]
