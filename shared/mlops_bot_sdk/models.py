"""Typed answers with the specs' field names. Extra fields are kept (servers add fields over time).

Fields a server may leave out are optional, so an older or newer server never breaks a client;
what the specs show is what a caller can rely on reading.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field


class SpecModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Sequence[T], Generic[T]):
    """One page of a listing: iterate it like a list, with the listing's `total`, `limit`, `offset`."""

    items: list[T]
    total: int | None = None
    limit: int | None = None
    offset: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)


# ------------------------------------------------------------------ mlops-bot management API


class Repository(SpecModel):
    id: str | None = None
    full_name: str
    status: str | None = None
    last_event: str | None = None
    issues_detected: int | None = None
    repairs_attempted: int | None = None
    success_rate: float | None = None


class RepositoryStatistics(SpecModel):
    total_events: int | None = None
    issues_detected: int | None = None
    repairs_successful: int | None = None
    repairs_failed: int | None = None
    average_response_time: float | None = None
    last_activity: str | None = None


class IssueSummary(SpecModel):
    id: str
    type: str | None = None
    severity: str | None = None
    detected_at: str | None = None
    resolved: bool | None = None
    resolution_time: float | None = None


class RepositoryDetails(Repository):
    configuration: dict[str, Any] = Field(default_factory=dict)
    statistics: RepositoryStatistics | None = None
    recent_issues: list[IssueSummary] = Field(default_factory=list)


class ConfigurationUpdate(SpecModel):
    message: str | None = None
    repository: str | None = None
    updated_at: str | None = None


class ActionTaken(SpecModel):
    action: str
    status: str | None = None
    executed_at: str | None = None
    details: dict[str, Any] | None = None


class TimelineEvent(SpecModel):
    timestamp: str
    event: str
    details: Any = None


class Issue(SpecModel):
    id: str
    repository: str | None = None
    type: str | None = None
    severity: str | None = None
    status: str | None = None
    detected_at: str | None = None
    resolved_at: str | None = None
    resolution_time: float | None = None
    description: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    actions_taken: list[ActionTaken] = Field(default_factory=list)
    timeline: list[TimelineEvent] = Field(default_factory=list)


class ResolutionResult(SpecModel):
    message: str | None = None
    execution_id: str
    estimated_completion: str | None = None


class Playbook(SpecModel):
    name: str
    version: str | None = None
    description: str | None = None
    supported_issues: list[str] = Field(default_factory=list)
    success_rate: float | None = None
    enabled: bool | None = None
    last_updated: str | None = None


class PlaybookStatistics(SpecModel):
    total_executions: int | None = None
    successful_executions: int | None = None
    failed_executions: int | None = None
    success_rate: float | None = None
    average_execution_time: float | None = None


class PlaybookAction(SpecModel):
    type: str
    description: str | None = None


class PlaybookDetails(Playbook):
    author: str | None = None
    created_at: str | None = None
    configuration: dict[str, Any] = Field(default_factory=dict)
    statistics: PlaybookStatistics | None = None
    actions: list[PlaybookAction] = Field(default_factory=list)


class PlaybookUpdate(SpecModel):
    message: str | None = None
    playbook: str | None = None
    enabled: bool | None = None
    updated_at: str | None = None


class AnalyticsSummary(SpecModel):
    total_events: int | None = None
    issues_detected: int | None = None
    issues_resolved: int | None = None
    resolution_rate: float | None = None
    average_resolution_time: float | None = None
    most_common_issue_type: str | None = None


class Point(SpecModel):
    timestamp: str
    value: float | None = None


class TypeBreakdown(SpecModel):
    count: int | None = None
    resolved: int | None = None


class RepositoryActivity(SpecModel):
    repository: str
    events: int | None = None
    issues: int | None = None


class Analytics(SpecModel):
    period: str | None = None
    summary: AnalyticsSummary | None = None
    timeseries: dict[str, list[Point]] = Field(default_factory=dict)
    breakdown_by_type: dict[str, TypeBreakdown] = Field(default_factory=dict)
    top_repositories: list[RepositoryActivity] = Field(default_factory=list)


class ComponentHealth(SpecModel):
    status: str
    message: str | None = None
    execution_time: float | None = None
    details: dict[str, Any] | None = None


class Health(SpecModel):
    status: str
    timestamp: str | None = None
    uptime_seconds: float | None = None
    version: str | None = None
    environment: str | None = None


class DetailedHealth(Health):
    active_executions: int | None = None
    components: dict[str, ComponentHealth] = Field(default_factory=dict)


# ------------------------------------------------------------------ Healing Guard API


class Pipeline(SpecModel):
    id: str
    name: str | None = None
    status: str | None = None
    last_run: str | None = None
    failure_count: int | None = None
    tenant_id: str | None = None


class PipelineDetails(Pipeline):
    config: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    recent_failures: list[Any] = Field(default_factory=list)


class HealingAction(SpecModel):
    action: str
    result: str | None = None
    duration: float | None = None


class Failure(SpecModel):
    id: str
    pipeline_id: str | None = None
    type: str | None = None
    severity: str | None = None
    detected_at: str | None = None
    resolved_at: str | None = None
    healing_actions: list[HealingAction] = Field(default_factory=list)


class HealResult(SpecModel):
    """The spec shows no body for a heal; ours answers like an issue resolution."""

    message: str | None = None
    execution_id: str | None = None
    status: str | None = None


class FailurePattern(SpecModel):
    pattern_id: str
    type: str | None = None
    frequency: int | None = None
    last_occurrence: str | None = None
    predicted_next: str | None = None
    confidence: float | None = None
    signature: str | None = None
    example: str | None = None
    category: str | None = None
    repositories: list[str] = Field(default_factory=list)


class PredictionDetail(SpecModel):
    failure_probability: float
    most_likely_failure: str | None = None
    confidence: float | None = None
    recommended_actions: list[str] = Field(default_factory=list)


class PredictionResult(SpecModel):
    pipeline_id: str
    prediction: PredictionDetail
    model: dict[str, Any] | None = None


class DashboardMessage(SpecModel):
    """One WebSocket message: `system_metrics`, `pipeline_updates`, `failure_alerts`, `healing_progress`."""

    type: str
    data: Any = None
    timestamp: str | None = None
