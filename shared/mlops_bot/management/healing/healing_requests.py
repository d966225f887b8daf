"""Manual healing: `POST /api/v1/issues/{id}/resolve` and `POST /api/failures/{id}/heal`.

The request goes to the healing queue as a `HealingRequest` (reason `manual`), exactly like the
detector's, so the healer treats both the same way. The answer carries an `execution_id` that is
also written on the incident's timeline, so the operator can find their request there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from statistics import mean
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.clock import utc_now
from mlops_bot.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from mlops_bot.healing import catalog
from mlops_bot.management.healing import playbooks
from mlops_bot.repository_config import git_ref, workflow_name
from mlops_bot.stores.incidents import (
    IN_PROGRESS_STATUSES,
    IncidentStatus,
    IncidentStore,
    TimelineEntry,
    TimelineEvent,
)

DEFAULT_ESTIMATE_SECONDS = 300


class MessageSender(Protocol):
    url: str

    def send(self, body: dict[str, Any], attributes: dict[str, str] | None = None) -> str: ...


class ResolveRequest(BaseModel):
    """The spec's body for `/resolve`.

    `action` names an action of the incident's playbook (`retry_failed_action`: plan again as the
    bot would); anything else is a 422. `parameters` travel in the healing request into the
    playbook execution's input. `force` overrides the state checks.
    """

    model_config = ConfigDict(extra="forbid")

    action: str | None = Field(default=None, max_length=100, pattern=r"^[a-z0-9_\-]+$")
    force: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)


class HealRequest(BaseModel):
    """The Healing Guard body for `/heal` (the same rules as `ResolveRequest`)."""

    model_config = ConfigDict(extra="forbid")

    action: str | None = Field(default=None, max_length=100, pattern=r"^[a-z0-9_\-]+$")
    force: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)


class ResolutionTriggered(BaseModel):
    message: str = "Issue resolution triggered"
    execution_id: str
    estimated_completion: str


class HealingTriggered(BaseModel):
    failure_id: str
    execution_id: str
    status: str = "queued"
    message: str = "Healing triggered"
    estimated_completion: str


class Ticket(BaseModel):
    incident_id: str
    execution_id: str
    estimated_completion: str


def _estimate_seconds(incidents: IncidentStore, tenant_id: str, playbook: str) -> int:
    times = [
        float(i.resolution_time)
        for i in incidents.all(tenant_id)
        if i.playbook == playbook and i.status == IncidentStatus.RESOLVED and i.resolution_time is not None
    ]
    return int(mean(times)) if times else DEFAULT_ESTIMATE_SECONDS


# What a parameter becomes on GitHub: a workflow is a URL segment, a ref a git name.
PARAMETER_CHECKS: dict[str, Callable[[str], str]] = {"workflow": workflow_name, "ref": git_ref}


def _refuse_unread_parameters(action: str | None, parameters: dict[str, Any]) -> None:
    """Each parameter must be one the chosen repair reads (a string); any other is a 422, not carried and ignored."""
    from mlops_bot.healing.planner import MANUAL_PARAMETERS

    readable = MANUAL_PARAMETERS.get(action or "", frozenset())
    problems: list[tuple[str, str]] = []
    for name, value in parameters.items():
        if name not in readable:
            problems.append((name, "not a parameter of this action"))
        elif not isinstance(value, str) or not 0 < len(value) <= 255 or not value.isprintable():
            problems.append((name, "must be a printable string of at most 255"))
        elif name in PARAMETER_CHECKS:
            try:
                PARAMETER_CHECKS[name](value)
            except ValueError as exc:
                problems.append((name, str(exc)))
    if problems:
        takes = ", ".join(sorted(readable)) or "none (the planner decides)"
        raise ValidationFailed(
            "Request validation failed",
            f"parameters: {', '.join(name for name, _ in problems)} not accepted; "
            f"action '{action or playbooks.RETRY}' takes: {takes}",
            fields=[{"loc": f"body.parameters.{name}", "msg": why, "type": "value_error"} for name, why in problems],
        )


def request_healing(
    incidents: IncidentStore,
    queue: MessageSender,
    tenant_id: str,
    incident_id: str,
    action: str | None,
    force: bool,
    parameters: dict[str, Any],
    requested_by: str,
) -> Ticket:
    # The planner (with detection and its stores) and the queue messages are loaded by the first
    # healing request, not by the management API's cold start.
    from mlops_bot.healing.planner import playbook_for
    from mlops_bot.messages import HealingReason, HealingRequest

    incident = incidents.get(tenant_id, incident_id)
    if incident is None:
        raise NotFound("Issue not found", f"No issue '{incident_id}' in this tenant")
    status = incident.status
    if not force and status in IN_PROGRESS_STATUSES:
        raise Conflict(
            "Healing already in progress", f"The issue is '{status.value}'; send force=true to queue another run"
        )
    if not force and status == IncidentStatus.RESOLVED:
        raise Conflict("Issue already resolved", "Send force=true to heal it again")
    diagnosis = incident.diagnosis or {}
    handler = catalog.get(str(incident.playbook or "")) or catalog.get(
        playbook_for(incident.type.value, diagnosis.get("category"), bool(incident.metadata.get("known_flaky")))
    )
    action = playbooks.resolve_manual_action(action, handler or catalog.for_issue_type(incident.type.value))
    _refuse_unread_parameters(action, parameters)
    if not queue.url:
        raise ServiceUnavailable("Healing queue not configured", "MLOPS_BOT_HEALING_QUEUE_URL is empty")
    execution_id = str(uuid.uuid4())
    # The request id names the playbook execution: each manual request runs once, even if SQS
    # delivers it twice, and a second request is not mistaken for the first.
    request = HealingRequest(
        tenant_id=tenant_id,
        incident_id=incident_id,
        reason=HealingReason.MANUAL,
        action=action,
        request_id=execution_id,
        force=force,
        parameters=parameters,
        correlation_id=execution_id,  # what the caller got back: it finds the run in the logs by it
    )
    queue.send(request.model_dump(mode="json"), attributes=request.attributes())
    details: dict[str, Any] = {
        "execution_id": execution_id,
        "action": action,
        "force": force,
        "requested_by": requested_by,
    }
    if parameters:
        details["parameters"] = parameters
    incidents.add_timeline(
        tenant_id,
        incident_id,
        TimelineEntry.now(TimelineEvent.MANUAL_HEAL_REQUESTED, json.dumps(details, default=str)[:1000]),
    )
    playbook = handler.name if handler else catalog.for_issue_type(incident.type.value).name
    eta = utc_now() + timedelta(seconds=_estimate_seconds(incidents, tenant_id, playbook))
    return Ticket(
        incident_id=incident_id, execution_id=execution_id, estimated_completion=eta.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
