"""Monitored repositories: listing, details with statistics, and the validated configuration."""

from __future__ import annotations

from statistics import mean
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import NotFound, ValidationFailed
from mlops_bot.management.reports import records
from mlops_bot.management.watching import repository_checks
from mlops_bot.repository_config import DriftSettings, EmailAddress, ModelThresholdsSetting, SlackWebhookUrl
from mlops_bot.stores.incidents import Incident, IncidentStatus, IncidentStore, TimelineEvent
from mlops_bot.stores.repositories import Repository, RepositoryConfiguration, RepositoryStore

RepositoryStatus = Literal["active", "paused", "error"]
NotificationChannel = Literal["slack", "email", "github", "webhook"]
Sensitivity = Literal["low", "medium", "high"]
CustomPlaybookName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
RECENT_ISSUES = 10


class RepositorySummary(BaseModel):
    id: str
    full_name: str
    status: str
    last_event: str | None = None
    issues_detected: int
    repairs_attempted: int
    success_rate: float | None = None


class RepositoryList(BaseModel):
    repositories: list[RepositorySummary]
    total: int
    limit: int
    offset: int


class RepositoryStatistics(BaseModel):
    total_events: int
    issues_detected: int
    repairs_successful: int
    repairs_failed: int
    average_response_time: float | None = None
    last_activity: str | None = None


class RecentIssue(BaseModel):
    id: str
    type: str
    severity: str
    status: str
    detected_at: str
    resolved: bool
    resolution_time: int | None = None


class RepositoryDetails(RepositorySummary):
    configuration: dict[str, Any]
    statistics: RepositoryStatistics
    recent_issues: list[RecentIssue]


class RepositoryConfigUpdate(BaseModel):
    """`PUT /config`: fields given replace the stored ones, `null` clears one (the file or the default
    decides again); unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    auto_fix_enabled: bool | None = None
    notification_channels: list[NotificationChannel] | None = Field(default=None, max_length=10)
    detection_sensitivity: Sensitivity | None = None
    custom_playbooks: list[CustomPlaybookName] | None = Field(default=None, max_length=20)
    # The same settings `.github/mlops-bot.yml` may carry (the API's win over the file's).
    slack_webhook_url: SlackWebhookUrl | None = None
    email_recipients: list[EmailAddress] | None = Field(default=None, max_length=20)
    drift: DriftSettings | None = None
    model_thresholds: ModelThresholdsSetting | None = None

    def changes(self) -> dict[str, Any]:
        """Every field the request named, `null` included (a clear, never silently dropped); inside
        `drift`, only the keys given (the file's others still apply)."""
        given = self.model_dump(exclude_unset=True)
        if isinstance(given.get("drift"), dict):
            given["drift"] = {key: value for key, value in given["drift"].items() if value is not None}
        return given


class ConfigUpdated(BaseModel):
    message: str = "Configuration updated successfully"
    repository: str
    updated_at: str


def summary(repository: Repository) -> RepositorySummary:
    attempted = repository.repairs_attempted
    return RepositorySummary(
        id=repository.full_name,
        full_name=repository.full_name,
        status=repository.status.value,
        last_event=repository.last_event,
        issues_detected=repository.issues_detected,
        repairs_attempted=attempted,
        success_rate=round(repository.repairs_successful / attempted, 4) if attempted else None,
    )


def list_repositories(
    repositories: RepositoryStore, tenant_id: str, limit: int, offset: int, status: str | None = None
) -> RepositoryList:
    items = [summary(r) for r in repositories.of_tenant(tenant_id)]
    if status:
        items = [i for i in items if i.status == status]
    return RepositoryList(repositories=items[offset : offset + limit], total=len(items), limit=limit, offset=offset)


def _load(repositories: RepositoryStore, tenant_id: str, full_name: str) -> Repository:
    repository = repositories.get(tenant_id, full_name)
    if repository is None:
        raise NotFound("Repository not found", f"{full_name} is not monitored by this tenant")
    return repository


# The bot's first move on an incident (what its response time is measured to).
FIRST_MOVES = frozenset(
    {TimelineEvent.ANALYSIS_STARTED, TimelineEvent.ACTION_EXECUTED, TimelineEvent.MANUAL_HEAL_REQUESTED}
)


def _response_seconds(incident: Incident) -> float | None:
    """Detection to the bot's first move (analysis or action) on the incident's timeline."""
    detected = records.parse_time(incident.detected_at)
    for entry in incident.timeline:
        if entry.event in FIRST_MOVES:
            moved = records.parse_time(entry.timestamp)
            if detected and moved:
                return max(0.0, (moved - detected).total_seconds())
    return None


def repository_details(
    repositories: RepositoryStore, incidents: IncidentStore, tenant_id: str, full_name: str
) -> RepositoryDetails:
    repository = _load(repositories, tenant_id, full_name)
    mine = [i for i in records.tenant_incidents(incidents, tenant_id) if i.repository.lower() == full_name.lower()]
    responses = [s for s in (_response_seconds(i) for i in mine) if s is not None]
    statistics = RepositoryStatistics(
        total_events=repository.total_events,
        issues_detected=repository.issues_detected,
        repairs_successful=repository.repairs_successful,
        repairs_failed=repository.repairs_failed,
        average_response_time=round(mean(responses), 3) if responses else None,
        last_activity=repository.last_event,
    )
    recent = [
        RecentIssue(
            id=i.id,
            type=i.type.value,
            severity=i.severity.value,
            status=i.status.value,
            detected_at=i.detected_at,
            resolved=i.status == IncidentStatus.RESOLVED,
            resolution_time=i.resolution_time,
        )
        for i in mine[:RECENT_ISSUES]
    ]
    return RepositoryDetails(
        **summary(repository).model_dump(),
        configuration=repository.configuration.effective(),
        statistics=statistics,
        recent_issues=recent,
    )


def update_configuration(
    repositories: RepositoryStore,
    tenant_id: str,
    full_name: str,
    update: RepositoryConfigUpdate,
    *,
    email_sender: bool = True,
) -> ConfigUpdated:
    """Store the given settings; `email_sender` says whether the deployment can send e-mail at all."""
    changes = update.changes()
    if not changes:
        raise ValidationFailed("Request validation failed", "Give at least one configuration field")
    repository = _load(repositories, tenant_id, full_name)
    merged = {**repository.configuration.model_dump(mode="json", exclude_none=True), **changes}
    merged = {key: value for key, value in merged.items() if value is not None}  # null: cleared
    repository_checks.check(changes, merged, email_sender)
    try:
        configuration = RepositoryConfiguration.model_validate(merged)
        now = iso(utc_now())
        updated = repositories.update_configuration(tenant_id, full_name, configuration, now)
    except (ValidationError, ValueError) as exc:
        raise ValidationFailed("Request validation failed", str(exc).splitlines()[0]) from exc
    if updated is None:
        raise NotFound("Repository not found", f"{full_name} is not monitored by this tenant")
    return ConfigUpdated(repository=repository.full_name, updated_at=now)
