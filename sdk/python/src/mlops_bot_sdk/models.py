"""Typed answers with the specs' field names, as plain dataclasses. Extra fields are kept.

Servers add fields over time: a field this SDK does not know lands in `model_extra` instead of
failing. Fields a server may leave out are optional, so an older or newer server never breaks a
client; what the specs show is what a caller can rely on reading. `from_dict` builds a model
(nested models, lists and maps of models included) from decoded JSON; `to_dict` goes back.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, Union, overload

from mlops_bot_sdk.errors import MLOpsBotError


@dataclass(kw_only=True)
class SpecModel:
    """Base of every answer: the known fields as attributes, the rest in `model_extra`."""

    model_extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls: type[M], data: Any) -> M:
        return from_dict(cls, data)

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON-shaped data again, unknown fields included."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name != "model_extra":
                out[f.name] = _plain(getattr(self, f.name))
        out.update(self.model_extra)
        return out


M = TypeVar("M", bound=SpecModel)
T = TypeVar("T")


class InvalidAnswer(MLOpsBotError):
    """Decoded JSON that cannot be the documented answer (not an object, a required field missing)."""

    code = "INVALID_RESPONSE"


def from_dict(cls: type[M], data: Any) -> M:
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise InvalidAnswer(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
    hints = _hints(cls)
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key in hints and key != "model_extra":
            known[key] = _convert(hints[key], value)
        else:
            extra[key] = value
    missing = [n for n in _required(cls) if n not in known]
    if missing:
        raise InvalidAnswer(f"{cls.__name__}: the answer lacks {', '.join(missing)}")
    return cls(**known, model_extra=extra)


_HINTS: dict[type, dict[str, Any]] = {}
_REQUIRED: dict[type, tuple[str, ...]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        names = {f.name for f in dataclasses.fields(cls)}
        _HINTS[cls] = {k: v for k, v in typing.get_type_hints(cls).items() if k in names}
    return _HINTS[cls]


def _required(cls: type) -> tuple[str, ...]:
    if cls not in _REQUIRED:
        _REQUIRED[cls] = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )
    return _REQUIRED[cls]


def _convert(hint: Any, value: Any) -> Any:
    """Nested models become models; anything else is kept as decoded (no coercion, no failure)."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        for arg in typing.get_args(hint):
            if arg is not type(None):
                return _convert(arg, value)
        return value
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(hint) or (Any,)
        return [_convert(item, v) for v in value]
    if origin is dict and isinstance(value, dict):
        args = typing.get_args(hint)
        inner = args[1] if len(args) == 2 else Any
        return {k: _convert(inner, v) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, SpecModel) and isinstance(value, Mapping):
        return from_dict(hint, value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, SpecModel):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


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


@dataclass(kw_only=True)
class Repository(SpecModel):
    id: str | None = None
    full_name: str
    status: str | None = None
    last_event: str | None = None
    issues_detected: int | None = None
    repairs_attempted: int | None = None
    success_rate: float | None = None


@dataclass(kw_only=True)
class RepositoryStatistics(SpecModel):
    total_events: int | None = None
    issues_detected: int | None = None
    repairs_successful: int | None = None
    repairs_failed: int | None = None
    average_response_time: float | None = None
    last_activity: str | None = None


@dataclass(kw_only=True)
class IssueSummary(SpecModel):
    id: str
    type: str | None = None
    severity: str | None = None
    detected_at: str | None = None
    resolved: bool | None = None
    resolution_time: float | None = None


@dataclass(kw_only=True)
class RepositoryDetails(Repository):
    configuration: dict[str, Any] = field(default_factory=dict)
    statistics: RepositoryStatistics | None = None
    recent_issues: list[IssueSummary] = field(default_factory=list)


@dataclass(kw_only=True)
class ConfigurationUpdate(SpecModel):
    message: str | None = None
    repository: str | None = None
    updated_at: str | None = None


@dataclass(kw_only=True)
class ActionTaken(SpecModel):
    action: str
    status: str | None = None
    executed_at: str | None = None
    details: dict[str, Any] | None = None


@dataclass(kw_only=True)
class TimelineEvent(SpecModel):
    timestamp: str
    event: str
    details: Any = None


@dataclass(kw_only=True)
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
    metadata: dict[str, Any] = field(default_factory=dict)
    actions_taken: list[ActionTaken] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)


@dataclass(kw_only=True)
class ResolutionResult(SpecModel):
    message: str | None = None
    execution_id: str
    estimated_completion: str | None = None


@dataclass(kw_only=True)
class Playbook(SpecModel):
    name: str
    version: str | None = None
    description: str | None = None
    supported_issues: list[str] = field(default_factory=list)
    success_rate: float | None = None
    enabled: bool | None = None
    last_updated: str | None = None


@dataclass(kw_only=True)
class PlaybookStatistics(SpecModel):
    total_executions: int | None = None
    successful_executions: int | None = None
    failed_executions: int | None = None
    success_rate: float | None = None
    average_execution_time: float | None = None


@dataclass(kw_only=True)
class PlaybookAction(SpecModel):
    type: str
    description: str | None = None


@dataclass(kw_only=True)
class PlaybookDetails(Playbook):
    author: str | None = None
    created_at: str | None = None
    configuration: dict[str, Any] = field(default_factory=dict)
    statistics: PlaybookStatistics | None = None
    actions: list[PlaybookAction] = field(default_factory=list)


@dataclass(kw_only=True)
class PlaybookUpdate(SpecModel):
    message: str | None = None
    playbook: str | None = None
    enabled: bool | None = None
    updated_at: str | None = None


@dataclass(kw_only=True)
class AnalyticsSummary(SpecModel):
    total_events: int | None = None
    issues_detected: int | None = None
    issues_resolved: int | None = None
    resolution_rate: float | None = None
    average_resolution_time: float | None = None
    most_common_issue_type: str | None = None


@dataclass(kw_only=True)
class Point(SpecModel):
    timestamp: str
    value: float | None = None


@dataclass(kw_only=True)
class TypeBreakdown(SpecModel):
    count: int | None = None
    resolved: int | None = None


@dataclass(kw_only=True)
class RepositoryActivity(SpecModel):
    repository: str
    events: int | None = None
    issues: int | None = None


@dataclass(kw_only=True)
class Analytics(SpecModel):
    period: str | None = None
    summary: AnalyticsSummary | None = None
    timeseries: dict[str, list[Point]] = field(default_factory=dict)
    breakdown_by_type: dict[str, TypeBreakdown] = field(default_factory=dict)
    top_repositories: list[RepositoryActivity] = field(default_factory=list)


@dataclass(kw_only=True)
class ComponentHealth(SpecModel):
    status: str
    message: str | None = None
    execution_time: float | None = None
    details: dict[str, Any] | None = None


@dataclass(kw_only=True)
class Health(SpecModel):
    status: str
    timestamp: str | None = None
    uptime_seconds: float | None = None
    version: str | None = None
    environment: str | None = None


@dataclass(kw_only=True)
class DetailedHealth(Health):
    active_executions: int | None = None
    components: dict[str, ComponentHealth] = field(default_factory=dict)


# ------------------------------------------------------------------ Healing Guard API


@dataclass(kw_only=True)
class Pipeline(SpecModel):
    id: str
    name: str | None = None
    status: str | None = None
    last_run: str | None = None
    failure_count: int | None = None
    tenant_id: str | None = None


@dataclass(kw_only=True)
class PipelineDetails(Pipeline):
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    recent_failures: list[Any] = field(default_factory=list)


@dataclass(kw_only=True)
class HealingAction(SpecModel):
    action: str
    result: str | None = None
    duration: float | None = None


@dataclass(kw_only=True)
class Failure(SpecModel):
    id: str
    pipeline_id: str | None = None
    type: str | None = None
    severity: str | None = None
    detected_at: str | None = None
    resolved_at: str | None = None
    healing_actions: list[HealingAction] = field(default_factory=list)


@dataclass(kw_only=True)
class HealResult(SpecModel):
    """The spec shows no body for a heal; ours answers like an issue resolution."""

    message: str | None = None
    execution_id: str | None = None
    status: str | None = None


@dataclass(kw_only=True)
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
    repositories: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class PredictionDetail(SpecModel):
    failure_probability: float
    most_likely_failure: str | None = None
    confidence: float | None = None
    recommended_actions: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class PredictionResult(SpecModel):
    pipeline_id: str
    prediction: PredictionDetail
    model: dict[str, Any] | None = None


@dataclass(kw_only=True)
class ApiHealth(SpecModel):
    """`GET /api/health`: overall status and one status per service."""

    status: str
    timestamp: str | None = None
    services: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class SystemConfig(SpecModel):
    features: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    integrations: dict[str, Any] = field(default_factory=dict)
    version: str | None = None
    environment: str | None = None
    updated_at: str | None = None


@dataclass(kw_only=True)
class TokenPair(SpecModel):
    access_token: str
    refresh_token: str
    expires_in: int | None = None
    user_info: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class User(SpecModel):
    id: str | None = None
    username: str | None = None
    role: str | None = None
    tenant_id: str | None = None


@dataclass(kw_only=True)
class Audit(SpecModel):
    id: str
    standard: str | None = None
    status: str | None = None
    audit_date: str | None = None
    findings: list[Any] = field(default_factory=list)
    risk_score: float | None = None
    digital_signature: str | None = None


@dataclass(kw_only=True)
class Tenant(SpecModel):
    id: str
    name: str | None = None
    status: str | None = None
    created_at: str | None = None
    resource_quota: dict[str, Any] = field(default_factory=dict)
    current_usage: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class TenantUsage(SpecModel):
    tenant_id: str
    usage_period: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    billing_amount: float | None = None


@dataclass(kw_only=True)
class ClusterNode(SpecModel):
    id: str
    status: str | None = None
    role: str | None = None
    load: float | None = None
    last_heartbeat: str | None = None


@dataclass(kw_only=True)
class ClusterStatus(SpecModel):
    cluster_id: str | None = None
    leader_node: str | None = None
    total_nodes: int | None = None
    healthy_nodes: int | None = None
    nodes: list[ClusterNode] = field(default_factory=list)


@dataclass(kw_only=True)
class Answer(SpecModel):
    """An answer the documents show no fields for (an acknowledgement): everything is in `model_extra`."""


@dataclass(kw_only=True)
class DashboardMessage(SpecModel):
    """One WebSocket message: `system_metrics`, `pipeline_updates`, `failure_alerts`, `healing_progress`."""

    type: str
    data: Any = None
    timestamp: str | None = None


# GitHub App onboarding (/api/v1/installations)


@dataclass(kw_only=True)
class RepositoryChange(SpecModel):
    message: str
    repository: str
    tenant_id: str | None = None
    source: str | None = None
    installation_id: int | None = None


@dataclass(kw_only=True)
class Installation(SpecModel):
    id: int
    account: str | None = None
    account_type: str | None = None
    status: str
    status_reason: str | None = None
    tenant_id: str | None = None
    claimed_at: str | None = None
    claimed_by: str | None = None
    repositories: list[str] = field(default_factory=list)
    excluded_repositories: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class ClaimState(SpecModel):
    state: str
    expires_at: str


@dataclass(kw_only=True)
class InstallationClaim(SpecModel):
    message: str
    installation: Installation
    enrolled: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
