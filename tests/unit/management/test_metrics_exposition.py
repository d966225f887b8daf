"""`/metrics`: the Prometheus exposition of a tenant's records and request counters, on the in-memory stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mlops_bot.clock import iso
from mlops_bot.management.reports import metrics, request_metrics
from mlops_bot.management.reports.records import TenantRecords
from mlops_bot.stores.events import EventRecord, InMemoryEventStore, ReceivedEvent
from mlops_bot.stores.incidents import Incident, IncidentStatus, InMemoryIncidentStore
from mlops_bot.stores.request_metrics import InMemoryRequestMetricsStore

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TTL = 90 * 86_400


def _event(tenant: str, delivery: str, repository: str = "acme/model", event: str = "workflow_run") -> EventRecord:
    return EventRecord(
        tenant_id=tenant,
        repository=repository,
        delivery_id=delivery,
        execution_id="x",
        received_at=iso(NOW),
        summary={"event": event, "action": "completed"},
    )


def _incident(tenant: str, incident_id: str, status: IncidentStatus, **fields: Any) -> Incident:
    return Incident(
        id=incident_id,
        tenant_id=tenant,
        repository=fields.pop("repository", "acme/model"),
        type=fields.pop("type", "pipeline_failure"),
        severity=fields.pop("severity", "high"),
        status=status,
        description="CI failed",
        detected_at=iso(NOW),
        **fields,
    )


def _exposition() -> list[str]:
    events, incidents, requests = InMemoryEventStore(), InMemoryIncidentStore(), InMemoryRequestMetricsStore()
    # The detector stores an event's expiry as the time it processed it plus the TTL.
    for delivery, seconds in (("fast", 0.0), ("slow", 3.0)):
        events.record(_event("t1", delivery), expires=NOW + timedelta(seconds=TTL + seconds))
    events.record(_event("t1", "push", event="push"), expires=NOW + timedelta(seconds=TTL))
    events.record(_event("t2", "theirs", repository="t2/secret-model"), expires=NOW + timedelta(seconds=TTL))
    resolved = _incident(
        "t1",
        "i-1",
        IncidentStatus.RESOLVED,
        playbook="dependency_fix",
        actions_taken=[{"action": "add_dependency", "status": "done"}],
    )
    for incident in (
        resolved,
        _incident("t1", "i-2", IncidentStatus.HEALING, type="data_drift", severity="medium"),
        _incident("t1", "i-3", IncidentStatus.FAILED, playbook="dependency_fix"),
        _incident("t2", "i-9", IncidentStatus.OPEN, repository="t2/secret-model", type="model_degradation"),
    ):
        incidents.open_or_update(incident)
    request_metrics.record(requests, "t1", "GET", "/api/v1/issues", 200, 0.04)
    request_metrics.record(requests, "t1", "GET", "/api/v1/issues", 503, 0.2)
    request_metrics.record(requests, "t2", "GET", "/api/tenants", 200, 0.04)
    return metrics.render(TenantRecords(incidents, events), requests, "t1", TTL).splitlines()


def test_the_tenants_events_are_counted_with_their_processing_time_from_the_expiry() -> None:
    lines = _exposition()
    assert "# TYPE bot_events_processed_total counter" in lines
    assert 'bot_events_processed_total{event_type="workflow_run",repo="acme/model",status="success"} 2' in lines
    assert 'bot_events_processed_total{event_type="push",repo="acme/model",status="success"} 1' in lines
    duration = "bot_event_processing_duration_seconds"
    assert f'{duration}_bucket{{event_type="workflow_run",repo="acme/model",le="0.1"}} 1' in lines
    assert f'{duration}_bucket{{event_type="workflow_run",repo="acme/model",le="5"}} 2' in lines
    assert f'{duration}_bucket{{event_type="workflow_run",repo="acme/model",le="+Inf"}} 2' in lines
    assert f'{duration}_sum{{event_type="workflow_run",repo="acme/model"}} 3' in lines


def test_the_tenants_incidents_give_detections_resolutions_actions_and_outcomes() -> None:
    lines = _exposition()
    assert 'bot_issues_detected_total{type="pipeline_failure",severity="high",repo="acme/model"} 2' in lines
    assert 'bot_issues_detected_total{type="data_drift",severity="medium",repo="acme/model"} 1' in lines
    assert 'bot_issues_resolved_total{type="pipeline_failure",repo="acme/model"} 1' in lines
    assert 'bot_actions_total{action="add_dependency",result="done",repo="acme/model"} 1' in lines
    assert 'bot_issues_unresolved{status="healing"} 1' in lines
    assert 'bot_issues_unresolved{status="failed"} 1' in lines
    assert 'bot_healing_outcomes_total{playbook="dependency_fix",outcome="resolved"} 1' in lines
    assert 'bot_healing_outcomes_total{playbook="dependency_fix",outcome="failed"} 1' in lines


def test_the_management_apis_requests_are_counted_and_another_tenants_records_left_out() -> None:
    lines = _exposition()
    assert 'bot_http_requests_total{method="GET",route="/api/v1/issues",status="503"} 1' in lines
    assert 'bot_http_request_errors_total{method="GET",route="/api/v1/issues"} 1' in lines
    assert 'bot_http_request_duration_seconds_count{method="GET",route="/api/v1/issues"} 2' in lines
    text = "\n".join(lines)
    assert "secret-model" not in text and "model_degradation" not in text and "/api/tenants" not in text


def test_a_noted_processing_time_wins_over_the_expiry_and_an_unreadable_receipt_has_none() -> None:
    event = ReceivedEvent(**_event("t1", "d").model_dump(), expires_at=int(NOW.timestamp()) + TTL + 30)
    assert metrics.processing_seconds(event, TTL) == 30
    noted = event.model_copy(update={"processed_at": iso(NOW + timedelta(seconds=2))})
    assert metrics.processing_seconds(noted, TTL) == 2
    assert metrics.processing_seconds(event.model_copy(update={"received_at": "yesterday"}), TTL) is None
    assert metrics.processing_seconds(event.model_copy(update={"expires_at": None}), TTL) is None
