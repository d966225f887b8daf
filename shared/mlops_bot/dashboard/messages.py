"""The spec's dashboard message types, built from changes of the state table.

Every message is `{"type", "timestamp", "data"}` with `type` one of the spec's four:

- `failure_alerts` — a new incident (an INSERT of an `incident` item): what failed, where, how badly;
- `healing_progress` — an incident whose status changed or whose timeline / actions grew: the new
  timeline entries, the latest action, and, once closed, the resolution;
- `pipeline_updates` — a recorded CI/CD event (an `event` item whose summary names a workflow run,
  a conclusion or a deployment state);
- `system_metrics` — the tenant's open incidents and the bot's queue depths (aggregates only,
  nothing of another tenant), sent on `subscribe` and at most once per stream batch.

A change is attributed to the tenant its partition key names (`TENANT#<t>#...`), the one thing no
item can lie about; an item whose `tenant_id` disagrees, or that belongs to the reserved `_system`
tenant, produces nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from mlops_bot.clock import iso, utc_now
from mlops_bot.storage import keys
from mlops_bot.stores.dashboard_connections import MESSAGE_TYPES as MESSAGE_TYPES  # their home: the connection item
from mlops_bot.stores.dashboard_connections import MessageType as MessageType
from mlops_bot.stores.incidents import IncidentStore

# API Gateway refuses WebSocket messages above 128 KiB; keep a margin for the envelope.
MAX_MESSAGE_BYTES = 120 * 1024
ALERT_METADATA = (
    "workflow_name",
    "run_id",
    "run_attempt",
    "head_branch",
    "head_sha",
    "html_url",
    "conclusion",
    "category",
    "failure_reason",
    "environment",
    "deployment_id",
)
logger = logging.getLogger(__name__)
PIPELINE_EVENTS = frozenset({"workflow_run", "workflow_job", "check_run", "check_suite", "deployment_status"})


def plain(value: Any) -> Any:
    """Stream images come with Decimal numbers and sets: make them JSON's."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


class StreamChange(BaseModel):
    """One record of the table's stream (NEW_AND_OLD_IMAGES), images as plain Python values."""

    event_name: Literal["INSERT", "MODIFY", "REMOVE"]
    sequence_number: str
    keys: dict[str, Any]
    new: dict[str, Any] | None = None
    old: dict[str, Any] | None = None

    @field_validator("keys", "new", "old", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return plain(value) if value is not None else None

    @property
    def image(self) -> dict[str, Any]:
        return self.new if self.new is not None else (self.old or {})


class DashboardMessage(BaseModel):
    type: MessageType
    timestamp: str
    data: dict[str, Any]

    def encode(self) -> bytes:
        """JSON bytes under API Gateway's frame limit: the bulkiest parts go first when too large."""
        body = self.model_dump(mode="json")
        encoded = json.dumps(body, separators=(",", ":"), default=str).encode()
        for trim in (_trim_timeline, _drop_bulk):
            if len(encoded) <= MAX_MESSAGE_BYTES:
                break
            trim(body["data"])
            encoded = json.dumps(body, separators=(",", ":"), default=str).encode()
        return encoded


def _trim_timeline(data: dict[str, Any]) -> None:
    for name in ("timeline", "new_entries"):
        if isinstance(data.get(name), list):
            data[name] = data[name][-20:]
    data.pop("metadata", None)


def _drop_bulk(data: dict[str, Any]) -> None:
    for name in ("timeline", "new_entries", "latest_action", "metadata"):
        data.pop(name, None)
    if isinstance(data.get("description"), str):
        data["description"] = data["description"][:1000]
    data["truncated"] = True


class TimelineEntry(BaseModel):
    event: str
    timestamp: str
    details: str | None = None


class FailureAlert(BaseModel):
    id: str
    repository: str
    type: str
    severity: str
    status: str
    description: str = ""
    detected_at: str | None = None
    occurrences: int = 1
    metadata: dict[str, Any] = Field(default_factory=dict)
    timeline: list[TimelineEntry] = Field(default_factory=list)


class HealingProgress(BaseModel):
    incident_id: str
    repository: str
    type: str
    severity: str
    status: str
    previous_status: str | None = None
    new_entries: list[TimelineEntry] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    latest_action: dict[str, Any] | None = None
    attempts: int = 0
    resolved_at: str | None = None
    resolution_time: int | None = None


class PipelineUpdate(BaseModel):
    repository: str
    event: str
    action: str | None = None
    workflow: str | None = None
    run_id: int | None = None
    run_attempt: int | None = None
    status: str | None = None
    conclusion: str | None = None
    head_branch: str | None = None
    head_sha: str | None = None
    deployment_state: str | None = None
    received_at: str | None = None
    delivery_id: str | None = None
    execution_id: str | None = None


class QueueDepth(BaseModel):
    waiting: int
    in_flight: int


class SystemMetrics(BaseModel):
    open_incidents: int
    queues: dict[str, QueueDepth] | None = None


def message(kind: MessageType, data: BaseModel) -> DashboardMessage:
    return DashboardMessage(type=kind, timestamp=iso(utc_now()), data=data.model_dump(mode="json", exclude_none=True))


def tenant_of(change: StreamChange) -> str | None:
    """The tenant a change belongs to: its partition key's, confirmed by the item's own field."""
    pk = str(change.keys.get("pk") or change.image.get("pk") or "")
    prefix, _, rest = pk.partition("#")
    tenant = rest.split("#", 1)[0]
    if prefix != "TENANT" or not tenant or tenant == keys.SYSTEM_TENANT:
        return None
    for image in (change.new, change.old):
        if image is not None and image.get("tenant_id") not in (None, tenant):
            return None
    return tenant


def _timeline(item: Mapping[str, Any]) -> list[TimelineEntry]:
    return [TimelineEntry.model_validate(e) for e in item.get("timeline") or [] if isinstance(e, dict)]


def failure_alert(item: Mapping[str, Any]) -> DashboardMessage:
    metadata = {k: v for k, v in (item.get("metadata") or {}).items() if k in ALERT_METADATA and v is not None}
    return message(
        "failure_alerts",
        FailureAlert(
            id=str(item["id"]),
            repository=str(item.get("repository", "")),
            type=str(item.get("type", "unknown")),
            severity=str(item.get("severity", "unknown")),
            status=str(item.get("status", "open")),
            description=str(item.get("description", "")),
            detected_at=item.get("detected_at"),
            occurrences=int(item.get("occurrences", 1)),
            metadata=metadata,
            timeline=_timeline(item),
        ),
    )


def healing_progress(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> DashboardMessage | None:
    """The step an incident took, or None when nothing a watcher cares about changed."""
    old = old or {}
    timeline, before = _timeline(new), _timeline(old)
    actions, actions_before = list(new.get("actions_taken") or []), list(old.get("actions_taken") or [])
    status, previous = str(new.get("status", "open")), old.get("status")
    if status == previous and len(timeline) <= len(before) and len(actions) <= len(actions_before):
        return None
    return message(
        "healing_progress",
        HealingProgress(
            incident_id=str(new["id"]),
            repository=str(new.get("repository", "")),
            type=str(new.get("type", "unknown")),
            severity=str(new.get("severity", "unknown")),
            status=status,
            previous_status=str(previous) if previous is not None else None,
            new_entries=timeline[len(before) :],
            timeline=timeline,
            latest_action=actions[-1] if len(actions) > len(actions_before) else None,
            attempts=int(new.get("attempts", 0)),
            resolved_at=new.get("resolved_at"),
            resolution_time=new.get("resolution_time"),
        ),
    )


def pipeline_update(item: Mapping[str, Any]) -> DashboardMessage | None:
    summary = item.get("summary") or {}
    if not isinstance(summary, dict):
        return None
    event = str(summary.get("event", ""))
    if event not in PIPELINE_EVENTS and not any(k in summary for k in ("workflow", "conclusion", "deployment_state")):
        return None
    return message(
        "pipeline_updates",
        PipelineUpdate(
            repository=str(item.get("repository", "")),
            event=event,
            action=summary.get("action"),
            workflow=summary.get("workflow"),
            run_id=summary.get("run_id"),
            run_attempt=summary.get("run_attempt"),
            status=summary.get("status"),
            conclusion=summary.get("conclusion"),
            head_branch=summary.get("head_branch"),
            head_sha=summary.get("head_sha"),
            deployment_state=summary.get("deployment_state"),
            received_at=item.get("received_at"),
            delivery_id=item.get("delivery_id"),
            execution_id=item.get("execution_id"),
        ),
    )


def messages_for(change: StreamChange) -> list[DashboardMessage]:
    """What watchers of the change's tenant should see; most changes (keys, counters...) show nothing."""
    new = change.new
    if new is None or change.event_name == "REMOVE":
        return []
    entity = new.get("entity")
    if entity == "incident" and "id" in new:
        if change.event_name == "INSERT":
            return [failure_alert(new)]
        progress = healing_progress(new, change.old)
        return [progress] if progress else []
    if entity == "event" and change.event_name == "INSERT":
        update = pipeline_update(new)
        return [update] if update else []
    return []


# ---------------------------------------------------------------- system metrics
QueueDepths = Callable[[], dict[str, tuple[int, int]]]


@dataclass(frozen=True)
class MetricsSources:
    """Where `system_metrics` come from: the incidents, and the queues when the function may read them."""

    incidents: IncidentStore
    queue_depths: QueueDepths | None = None


def system_metrics(sources: MetricsSources, tenant_id: str) -> DashboardMessage:
    open_incidents = sources.incidents.count_open(tenant_id)
    queues = None
    if sources.queue_depths is not None:
        try:
            depths = sources.queue_depths()
        except Exception:  # the queues are a nicety: the incident count still goes out
            logger.warning("queue depths unavailable for system_metrics", exc_info=True)
        else:
            queues = {name: QueueDepth(waiting=w, in_flight=f) for name, (w, f) in depths.items()}
    return message("system_metrics", SystemMetrics(open_incidents=open_incidents, queues=queues))
