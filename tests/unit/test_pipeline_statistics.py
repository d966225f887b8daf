"""Pipelines' statistics and failures, from the recorded workflow runs and incidents (in-memory stores)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mlops_bot.clock import iso
from mlops_bot.errors import NotFound
from mlops_bot.management.watching import pipelines as service
from mlops_bot.stores.events import EventRecord, InMemoryEventStore
from mlops_bot.stores.incidents import Incident, IncidentStatus, InMemoryIncidentStore
from mlops_bot.stores.pipelines import InMemoryPipelineStore, Pipeline

TENANT = "t1"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def sources() -> service.PipelineSources:
    return service.PipelineSources(InMemoryPipelineStore(), InMemoryIncidentStore(), InMemoryEventStore())


def _pipeline(
    sources: service.PipelineSources, pipeline_id: str, repository: str = "acme/model", workflow: str | None = "CI"
) -> Pipeline:
    pipeline = Pipeline(
        id=pipeline_id,
        tenant_id=TENANT,
        name=pipeline_id,
        repository=repository,
        workflow=workflow,
        created_at=iso(NOW - timedelta(days=30)),
    )
    assert sources.pipelines.create(pipeline, max_pipelines=10)
    return pipeline


def _run(
    sources: service.PipelineSources,
    minutes_ago: int,
    conclusion: str,
    *,
    repository: str = "acme/model",
    workflow: str = "CI",
    **summary: Any,
) -> None:
    received = NOW - timedelta(minutes=minutes_ago)
    sources.events.record(
        EventRecord(
            tenant_id=TENANT,
            repository=repository,
            delivery_id=str(uuid.uuid4()),
            execution_id="x",
            received_at=iso(received),
            summary={
                "event": "workflow_run",
                "action": "completed",
                "workflow": workflow,
                "conclusion": conclusion,
                **summary,
            },
        ),
        expires=received + timedelta(days=90),
    )


def _incident(
    sources: service.PipelineSources,
    incident_id: str,
    *,
    workflow: str = "CI",
    repository: str = "acme/model",
    status: IncidentStatus = IncidentStatus.OPEN,
    severity: str = "high",
    hours_ago: int = 1,
) -> None:
    sources.incidents.open_or_update(
        Incident(
            id=incident_id,
            tenant_id=TENANT,
            repository=repository,
            type="pipeline_failure",
            severity=severity,
            status=status,
            description="CI failed",
            detected_at=iso(NOW - timedelta(hours=hours_ago)),
            metadata={"workflow_name": workflow},
            actions_taken=[{"action": "rerun_workflow", "status": "done", "timestamp": iso(NOW)}],
        )
    )


def test_metrics_count_the_pipelines_completed_runs_only(sources: service.PipelineSources) -> None:
    _pipeline(sources, "ci")
    _run(sources, 30, "success", duration_seconds=100)
    _run(sources, 20, "failure", run_started_at="2026-11-27T11:00:00Z", run_completed_at="2026-11-27T11:05:00Z")
    _run(sources, 10, "success")  # no duration known
    _run(sources, 5, "success", workflow="Docs")  # another workflow
    _run(sources, 5, "success", repository="acme/other")  # another repository
    details = service.get_pipeline(sources, TENANT, "ci")
    assert details.metrics == service.PipelineMetrics(success_rate=66.7, avg_duration=200.0, total_runs=3)
    assert details.last_run == iso(NOW - timedelta(minutes=10))


def test_without_runs_the_metrics_are_unknown_not_zero(sources: service.PipelineSources) -> None:
    _pipeline(sources, "ci")
    details = service.get_pipeline(sources, TENANT, "ci")
    assert details.metrics == service.PipelineMetrics(success_rate=None, avg_duration=None, total_runs=0)
    assert (details.status, details.last_run, details.failure_count) == ("unknown", None, 0)


@pytest.mark.parametrize(
    ("latest", "incident_status", "expected"),
    [
        ("success", IncidentStatus.RESOLVED, "healthy"),
        ("success", IncidentStatus.HEALING, "degraded"),
        ("failure", IncidentStatus.RESOLVED, "failing"),
    ],
)
def test_the_status_follows_the_latest_run_and_the_open_failures(
    sources: service.PipelineSources, latest: str, incident_status: IncidentStatus, expected: str
) -> None:
    _pipeline(sources, "ci")
    _run(sources, 20, "failure")
    _run(sources, 10, latest)
    _incident(sources, "inc-1", status=incident_status)
    summary = service.list_pipelines(sources, TENANT, 50, 0).pipelines[0]
    assert (summary.status, summary.failure_count) == (expected, 1)


def test_a_listing_filters_by_status_and_pages(sources: service.PipelineSources) -> None:
    _pipeline(sources, "ci")
    _pipeline(sources, "docs", workflow="Docs")
    _pipeline(sources, "other", repository="acme/other")
    _run(sources, 10, "failure")
    _run(sources, 10, "success", workflow="Docs")
    failing = service.list_pipelines(sources, TENANT, 50, 0, status="failing")
    assert [p.id for p in failing.pipelines] == ["ci"]
    page = service.list_pipelines(sources, TENANT, 1, 1)
    assert page.total == 3 and len(page.pipelines) == 1


def test_a_failure_belongs_to_the_most_specific_pipeline(sources: service.PipelineSources) -> None:
    _pipeline(sources, "all-workflows", workflow=None)
    _pipeline(sources, "ci")
    _incident(sources, "inc-ci", workflow="CI")
    _incident(sources, "inc-docs", workflow="Docs")
    owners = {f.id: f.pipeline_id for f in service.list_failures(sources, TENANT).failures}
    assert owners == {"inc-ci": "ci", "inc-docs": "all-workflows"}
    only_ci = service.list_failures(sources, TENANT, pipeline_id="ci").failures
    assert [f.id for f in only_ci] == ["inc-ci"]
    assert only_ci[0].healing_actions == [
        service.HealingAction(action="rerun_workflow", result="done", executed_at=iso(NOW))
    ]
    with pytest.raises(service.PipelineNotFound):  # not an empty list, which reads as "no failures"
        service.list_failures(sources, TENANT, pipeline_id="unknown")


def test_failures_filter_by_severity_status_and_detection_time(sources: service.PipelineSources) -> None:
    _pipeline(sources, "ci")
    _incident(sources, "old", hours_ago=48, severity="low")
    _incident(sources, "new", hours_ago=1, status=IncidentStatus.RESOLVED)
    assert [f.id for f in service.list_failures(sources, TENANT, severity="low").failures] == ["old"]
    assert [f.id for f in service.list_failures(sources, TENANT, status="resolved").failures] == ["new"]
    recent = service.list_failures(sources, TENANT, start=(NOW - timedelta(hours=2)).replace(tzinfo=None))
    assert [f.id for f in recent.failures] == ["new"]
    paged = service.list_failures(sources, TENANT, limit=1, offset=1)
    assert (paged.total, [f.id for f in paged.failures]) == (2, ["old"])


def test_an_unknown_pipeline_is_not_found_and_failure_existence_is_per_tenant(
    sources: service.PipelineSources,
) -> None:
    with pytest.raises(NotFound):
        service.get_pipeline(sources, TENANT, "nope")
    _incident(sources, "inc-1")
    assert service.failure_exists(sources.incidents, TENANT, "inc-1")
    assert not service.failure_exists(sources.incidents, "t2", "inc-1")
