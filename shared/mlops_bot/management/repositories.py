"""Monitored repositories: listing, details with statistics, and the validated configuration."""

from __future__ import annotations

from statistics import mean
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import NotFound, ValidationFailed
from mlops_bot.management import records, repository_checks
from mlops_bot.repository_config import DriftSettings
from mlops_bot.storage import keys

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
    """`PUT /config`: fields given replace the stored ones; unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid")

    auto_fix_enabled: bool | None = None
    notification_channels: list[NotificationChannel] | None = Field(default=None, max_length=10)
    detection_sensitivity: Sensitivity | None = None
    custom_playbooks: list[CustomPlaybookName] | None = Field(default=None, max_length=20)
    # The same settings `.github/mlops-bot.yml` may carry (the API's win over the file's).
    slack_webhook_url: str | None = Field(default=None, pattern=r"^https://", max_length=500)
    email_recipients: list[str] | None = Field(default=None, max_length=20)
    drift: DriftSettings | None = None
    model_thresholds: dict[str, Any] | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ConfigUpdated(BaseModel):
    message: str = "Configuration updated successfully"
    repository: str
    updated_at: str


def summary(item: dict[str, Any]) -> RepositorySummary:
    attempted = int(item.get("repairs_attempted", 0))
    return RepositorySummary(
        id=str(item.get("full_name")),
        full_name=str(item.get("full_name")),
        status=str(item.get("status", "active")),
        last_event=item.get("last_event"),
        issues_detected=int(item.get("issues_detected", 0)),
        repairs_attempted=attempted,
        success_rate=round(int(item.get("repairs_successful", 0)) / attempted, 4) if attempted else None,
    )


def list_repositories(
    table: StateTable, tenant_id: str, limit: int, offset: int, status: str | None = None
) -> RepositoryList:
    items = [summary(i) for i in table.query(keys.tenant_pk(tenant_id), "REPO#")]
    if status:
        items = [i for i in items if i.status == status]
    return RepositoryList(repositories=items[offset : offset + limit], total=len(items), limit=limit, offset=offset)


def _load(table: StateTable, tenant_id: str, full_name: str) -> dict[str, Any]:
    item = table.get(keys.repository_key(tenant_id, full_name))
    if item is None:
        raise NotFound("Repository not found", f"{full_name} is not monitored by this tenant")
    return item


def _response_seconds(incident: dict[str, Any]) -> float | None:
    """Detection to the bot's first move (analysis or action) on the incident's timeline."""
    detected = records.parse_time(incident.get("detected_at"))
    for entry in incident.get("timeline") or []:
        if entry.get("event") in {"analysis_started", "action_executed", "manual_heal_requested"}:
            moved = records.parse_time(entry.get("timestamp"))
            if detected and moved:
                return max(0.0, (moved - detected).total_seconds())
    return None


def repository_details(table: StateTable, tenant_id: str, full_name: str) -> RepositoryDetails:
    item = _load(table, tenant_id, full_name)
    mine = [i for i in records.incidents(table, tenant_id) if str(i.get("repository", "")).lower() == full_name.lower()]
    responses = [s for s in (_response_seconds(i) for i in mine) if s is not None]
    statistics = RepositoryStatistics(
        total_events=int(item.get("total_events", 0)),
        issues_detected=int(item.get("issues_detected", 0)),
        repairs_successful=int(item.get("repairs_successful", 0)),
        repairs_failed=int(item.get("repairs_failed", 0)),
        average_response_time=round(mean(responses), 3) if responses else None,
        last_activity=item.get("last_event"),
    )
    recent = [
        RecentIssue(
            id=str(i["id"]),
            type=str(i.get("type", "")),
            severity=str(i.get("severity", "")),
            status=str(i.get("status", "open")),
            detected_at=str(i.get("detected_at", "")),
            resolved=i.get("status") == "resolved",
            resolution_time=i.get("resolution_time"),
        )
        for i in mine[:RECENT_ISSUES]
    ]
    return RepositoryDetails(
        **summary(item).model_dump(),
        configuration=item.get("configuration") or {},
        statistics=statistics,
        recent_issues=recent,
    )


def update_configuration(
    table: StateTable, tenant_id: str, full_name: str, update: RepositoryConfigUpdate
) -> ConfigUpdated:
    changes = update.changes()
    if not changes:
        raise ValidationFailed("Request validation failed", "Give at least one configuration field")
    item = _load(table, tenant_id, full_name)
    configuration = {**(item.get("configuration") or {}), **changes}
    repository_checks.check(changes, configuration)
    now = iso(utc_now())
    updated = table.set_fields(
        keys.repository_key(tenant_id, full_name),
        {"configuration": configuration, "configuration_updated_at": now},
        if_exists=True,
    )
    if updated is None:
        raise NotFound("Repository not found", f"{full_name} is not monitored by this tenant")
    return ConfigUpdated(repository=str(item.get("full_name", full_name)), updated_at=now)
