"""Healing Guard pipelines and failures, on top of the bot's repositories, events and incidents.

A pipeline is a registered CI workflow: `repository` (and optionally `workflow`) tie it to the
`workflow_run` events the bot records, from which its metrics come; the incidents of that
repository (and workflow) are its failures. Registration is bounded by the tenant's
`max_pipelines` and `max_storage_gb` quotas.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from statistics import mean
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import NotFound, ValidationFailed
from mlops_bot.management.accounts import quotas, usage
from mlops_bot.management.healing import issues
from mlops_bot.management.reports import records
from mlops_bot.stores.events import EventStore
from mlops_bot.stores.incidents import Incident, IncidentStatus, IncidentStore
from mlops_bot.stores.pipelines import NotificationChannel, Pipeline, PipelineConfig, PipelineStore
from mlops_bot.stores.repositories import RepositoryStore
from mlops_bot.stores.tenants import TenantStore
from mlops_bot.stores.usage import UsageStore

__all__ = ["PipelineConfig", "PipelineCreate", "PipelineSources", "create_pipeline", "delete_pipeline"]
REPOSITORY_PATTERN = r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$"
RECENT_FAILURES = 10
# unknown: no run recorded yet; healthy: the last run passed and every failure is resolved;
# degraded: it passed with failures unresolved; failing: the last run failed.
PipelineStatus = Literal["healthy", "degraded", "failing", "unknown"]


class PipelineNotFound(NotFound):
    code = "PIPELINE_NOT_FOUND"


class PipelineConfigRequest(BaseModel):
    """The document's `config`. Nothing here is set per pipeline: each key says what applies to the
    pipeline's repository, so a value other than that is refused (422) rather than stored and ignored."""

    model_config = ConfigDict(extra="forbid")

    retry_attempts: int | None = Field(default=None, ge=0, le=10)
    timeout: int | None = Field(default=None, ge=1, le=86_400)
    notification_channels: list[NotificationChannel] | None = Field(default=None, max_length=10)


class PipelineConfigView(BaseModel):
    """What applies to the pipeline: healing rounds per failure (`MLOPS_BOT_MAX_ATTEMPTS_PER_INCIDENT`),
    no run timeout of the bot's own (`null`: the workflow's `timeout-minutes` is GitHub's), and the
    channels its repository's configuration notifies on."""

    retry_attempts: int
    timeout: int | None = None
    notification_channels: list[str] = Field(default_factory=list)


class PipelineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    webhook_url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://[^\s]+$",
        description="Refused (422): the bot learns of runs from GitHub's workflow_run events, calls no webhook",
    )
    config: PipelineConfigRequest | None = Field(
        default=None, description="Only the values that apply are accepted (see PipelineConfigView)"
    )
    repository: str | None = Field(default=None, pattern=REPOSITORY_PATTERN, description="owner/name it runs in")
    workflow: str | None = Field(default=None, max_length=200, description="workflow name; all when omitted")


class HealingAction(BaseModel):
    action: str
    result: str
    duration: float | None = None
    executed_at: str | None = None


class Failure(BaseModel):
    id: str
    pipeline_id: str | None
    repository: str
    type: str
    severity: str
    status: str
    description: str | None = None
    detected_at: str
    resolved_at: str | None = None
    healing_actions: list[HealingAction]


class FailureList(BaseModel):
    failures: list[Failure]
    total: int
    limit: int
    offset: int


class PipelineMetrics(BaseModel):
    success_rate: float | None = Field(description="Percent of completed runs that succeeded")
    avg_duration: float | None = Field(description="Seconds, when the runs' start and end are known")
    total_runs: int


class PipelineSummary(BaseModel):
    id: str
    name: str
    status: PipelineStatus
    last_run: str | None
    failure_count: int
    tenant_id: str


class PipelineList(BaseModel):
    pipelines: list[PipelineSummary]
    total: int
    limit: int
    offset: int


class PipelineDetails(PipelineSummary):
    webhook_url: str | None = None
    repository: str | None = None
    workflow: str | None = None
    created_at: str
    config: PipelineConfigView
    metrics: PipelineMetrics
    recent_failures: list[Failure]


@dataclass(frozen=True)
class PipelineSources:
    """What the pipeline routes read: the pipelines, their repositories' events, and the incidents."""

    pipelines: PipelineStore
    incidents: IncidentStore
    events: EventStore
    repositories: RepositoryStore | None = None  # where a pipeline's notification channels are set
    healing_attempts: int = 2  # MLOPS_BOT_MAX_ATTEMPTS_PER_INCIDENT of the deployment


def applied_config(sources: PipelineSources, tenant_id: str, repository: str | None) -> PipelineConfigView:
    """What the bot does for a pipeline's failures: the deployment's healing rounds and its repository's channels."""
    channels: list[str] = []
    if repository and sources.repositories is not None:
        found = sources.repositories.get(tenant_id, repository)
        channels = list(found.configuration.notification_channels or []) if found else []
    return PipelineConfigView(retry_attempts=sources.healing_attempts, notification_channels=channels)


def _refuse_what_would_be_ignored(request: PipelineCreate, applied: PipelineConfigView) -> None:
    problems: list[tuple[str, str]] = []
    if request.webhook_url is not None:
        problems.append(
            ("webhook_url", "the bot calls no pipeline webhook; it learns of runs from GitHub's workflow_run events")
        )
    given = request.config
    if given is not None and given.timeout is not None:
        problems.append(("config.timeout", "the bot sets no run timeout; set timeout-minutes in the workflow"))
    if given is not None and given.retry_attempts is not None and given.retry_attempts != applied.retry_attempts:
        problems.append(
            (
                "config.retry_attempts",
                f"failures are healed at most {applied.retry_attempts} times (MLOPS_BOT_MAX_ATTEMPTS_PER_INCIDENT)",
            )
        )
    channels = given.notification_channels if given is not None else None
    if channels is not None and sorted(set(channels)) != sorted(set(applied.notification_channels)):
        problems.append(
            (
                "config.notification_channels",
                f"notifications follow the repository's notification_channels ({applied.notification_channels}); "
                "set them with PUT /api/v1/repositories/{owner}/{repo}/config",
            )
        )
    if problems:
        raise ValidationFailed(
            "Request validation failed",
            "; ".join(f"{key}: {why}" for key, why in problems),
            fields=[{"loc": f"body.{key}", "msg": why, "type": "value_error"} for key, why in problems],
        )


def _matches(pipeline: Pipeline, incident: Incident) -> bool:
    repository = (pipeline.repository or "").lower()
    if not repository or incident.repository.lower() != repository:
        return False
    workflow = pipeline.workflow
    return not workflow or incident.metadata.get("workflow_name") == workflow


def _pipeline_of(pipelines: list[Pipeline], incident: Incident) -> str | None:
    matching = [p for p in pipelines if _matches(p, incident)]
    matching.sort(key=lambda p: p.workflow is None)  # the most specific pipeline first
    return matching[0].id if matching else None


def failure(incident: Incident, pipeline_id: str | None) -> Failure:
    return Failure(
        id=incident.id,
        pipeline_id=pipeline_id,
        repository=incident.repository,
        type=incident.type.value,
        severity=incident.severity.value,
        status=incident.status.value,
        description=incident.description,
        detected_at=incident.detected_at,
        resolved_at=incident.resolved_at,
        healing_actions=[
            HealingAction(
                action=str(a.get("action", "")),
                result=str(a.get("status", "")),
                duration=a.get("duration"),
                executed_at=a.get("timestamp") or a.get("executed_at"),
            )
            for a in incident.actions_taken
        ],
    )


def _runs(events: EventStore, tenant_id: str, pipeline: Pipeline) -> list[dict[str, Any]]:
    """The pipeline's completed workflow runs, as GitHub summarised them, with when each arrived."""
    if not pipeline.repository:
        return []
    runs = []
    for event in events.list(tenant_id, pipeline.repository):
        summary = event.summary
        if summary.get("event") != "workflow_run" or summary.get("action") != "completed":
            continue
        if pipeline.workflow and summary.get("workflow") != pipeline.workflow:
            continue
        runs.append({**summary, "received_at": event.received_at})
    return runs


def _duration(run: dict[str, Any]) -> float | None:
    if run.get("duration_seconds") is not None:
        return float(run["duration_seconds"])
    started = records.parse_time(run.get("run_started_at") or run.get("created_at"))
    ended = records.parse_time(run.get("run_completed_at") or run.get("updated_at"))
    return (ended - started).total_seconds() if started and ended and ended >= started else None


def _metrics(runs: list[dict[str, Any]]) -> PipelineMetrics:
    succeeded = sum(1 for r in runs if r.get("conclusion") == "success")
    durations = [d for d in (_duration(r) for r in runs) if d is not None]
    return PipelineMetrics(
        success_rate=round(100 * succeeded / len(runs), 1) if runs else None,
        avg_duration=round(mean(durations), 1) if durations else None,
        total_runs=len(runs),
    )


def _status(runs: list[dict[str, Any]], failures: list[Incident]) -> PipelineStatus:
    if not runs:
        return "unknown" if not failures else "failing"
    latest = max(runs, key=lambda r: str(r.get("received_at", "")))
    if latest.get("conclusion") == "success":
        return "healthy" if all(f.status == IncidentStatus.RESOLVED for f in failures) else "degraded"
    return "failing"


def _summary(pipeline: Pipeline, runs: list[dict[str, Any]], failures: list[Incident]) -> PipelineSummary:
    last = max((str(r.get("received_at")) for r in runs if r.get("received_at")), default=None)
    return PipelineSummary(
        id=pipeline.id,
        name=pipeline.name,
        status=_status(runs, failures),
        last_run=last,
        failure_count=len(failures),
        tenant_id=pipeline.tenant_id,
    )


def create_pipeline(
    store: PipelineStore, tenant_id: str, request: PipelineCreate, created_by: str, *, max_pipelines: int
) -> Pipeline:
    """Store a new pipeline in one of the tenant's `max_pipelines` slots (403 QUOTA_EXCEEDED when none is free)."""
    pipeline = Pipeline(
        id=f"pipeline-{uuid.uuid4().hex[:12]}",
        tenant_id=tenant_id,
        name=request.name,
        repository=request.repository,
        workflow=request.workflow,
        created_at=iso(utc_now()),
        created_by=created_by,
    )
    if not store.create(pipeline, max_pipelines=max_pipelines):
        raise quotas.exceeded("pipelines", max_pipelines)
    return pipeline


def delete_pipeline(store: PipelineStore, tenant_id: str, pipeline_id: str) -> None:
    """Exactly one of any number of concurrent deletes succeeds and frees the slot; the others get 404."""
    if not store.delete(tenant_id, pipeline_id):
        raise NotFound("Pipeline not found", f"No pipeline '{pipeline_id}' in this tenant")


def register(
    sources: PipelineSources,
    tenant_store: TenantStore,
    usage_store: UsageStore,
    tenant_id: str,
    request: PipelineCreate,
    created_by: str,
) -> PipelineDetails:
    """Store the pipeline within the tenant's quotas (403 QUOTA_EXCEEDED beyond `max_storage_gb` or
    `max_pipelines`) and answer its details."""
    _refuse_what_would_be_ignored(request, applied_config(sources, tenant_id, request.repository))
    quota = quotas.quota_of(tenant_store, tenant_id)
    quotas.check_storage(usage.storage_gb(usage_store, tenant_id), quota)
    pipeline = create_pipeline(sources.pipelines, tenant_id, request, created_by, max_pipelines=quota.max_pipelines)
    return get_pipeline(sources, tenant_id, pipeline.id)


def list_pipelines(
    sources: PipelineSources, tenant_id: str, limit: int, offset: int, status: str | None = None
) -> PipelineList:
    incidents = sources.incidents.all(tenant_id)
    summaries = []
    for pipeline in sources.pipelines.list(tenant_id):
        failures = [i for i in incidents if _matches(pipeline, i)]
        summaries.append(_summary(pipeline, _runs(sources.events, tenant_id, pipeline), failures))
    if status:
        summaries = [s for s in summaries if s.status == status]
    return PipelineList(pipelines=summaries[offset : offset + limit], total=len(summaries), limit=limit, offset=offset)


def get_pipeline(sources: PipelineSources, tenant_id: str, pipeline_id: str) -> PipelineDetails:
    pipeline = sources.pipelines.get(tenant_id, pipeline_id)
    if pipeline is None:
        raise PipelineNotFound(
            f"Pipeline with ID '{pipeline_id}' not found", f"No pipeline '{pipeline_id}' in this tenant"
        )
    runs = _runs(sources.events, tenant_id, pipeline)
    failures = [i for i in sources.incidents.all(tenant_id) if _matches(pipeline, i)]
    return PipelineDetails(
        **_summary(pipeline, runs, failures).model_dump(),
        webhook_url=None,  # the bot calls no pipeline webhook (a value stored before it was refused is not used)
        repository=pipeline.repository,
        workflow=pipeline.workflow,
        created_at=pipeline.created_at,
        config=applied_config(sources, tenant_id, pipeline.repository),
        metrics=_metrics(runs),
        recent_failures=[failure(i, pipeline_id) for i in failures[:RECENT_FAILURES]],
    )


def list_failures(
    sources: PipelineSources,
    tenant_id: str,
    *,
    pipeline_id: str | None = None,
    severity: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> FailureList:
    start, end = records.aware(start), records.aware(end)
    states = issues.status_filter(status)  # 422 for a status no failure can have
    pipelines = sources.pipelines.list(tenant_id)
    chosen = next((p for p in pipelines if p.id == pipeline_id), None) if pipeline_id is not None else None
    if pipeline_id is not None and chosen is None:  # an empty list would read as "no failures"
        raise PipelineNotFound(
            f"Pipeline with ID '{pipeline_id}' not found", f"No pipeline '{pipeline_id}' in this tenant"
        )
    found = []
    for incident in sources.incidents.all(tenant_id):
        owner = _pipeline_of(pipelines, incident)
        if pipeline_id is not None:
            if chosen is None or not _matches(chosen, incident):
                continue
            owner = pipeline_id
        if severity and incident.severity != severity:
            continue
        if states is not None and incident.status.value not in states:
            continue
        detected = records.parse_time(incident.detected_at)
        if (start and (detected is None or detected < start)) or (end and (detected is None or detected > end)):
            continue
        found.append(failure(incident, owner))
    return FailureList(failures=found[offset : offset + limit], total=len(found), limit=limit, offset=offset)


def failure_exists(incidents: IncidentStore, tenant_id: str, failure_id: str) -> bool:
    return incidents.get(tenant_id, failure_id) is not None
