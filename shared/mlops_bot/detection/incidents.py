"""Opening an incident and asking for its healing, so that the request is never silently lost.

`raise_incident` stores the incident as `healing_request: pending`, queues a `HealingRequest`, then
marks it `requested`. A crash anywhere in between leaves it `pending`: the next delivery of the
same event (`raise_incident` again) or the scheduler's sweep (`sweep_pending_healing`) sends it.
The request's id is fixed per incident, so even a request sent twice (a crash after the send,
before the mark) starts one playbook execution.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from mlops_bot.clock import utc_now
from mlops_bot.messages import HealingReason, HealingRequest, MessageQueue
from mlops_bot.stores.events import ActivityCounter, EventStore
from mlops_bot.stores.incidents import (
    HealingRequestState,
    Incident,
    IncidentStore,
    TimelineEntry,
    dynamo_item,
)

__all__ = [
    "DETECTED_REQUEST_ID",
    "Incident",
    "TimelineEntry",
    "incident_item",
    "raise_incident",
    "request_healing",
    "sweep_pending_healing",
]

logger = logging.getLogger(__name__)

DETECTED_REQUEST_ID = "detected"  # names the one execution a detected incident starts
SWEEP_GRACE = timedelta(minutes=5)  # leave a detector that is still working alone
SWEEP_WINDOW = timedelta(days=7)


def request_healing(
    incidents: IncidentStore,
    activity: EventStore,
    queue: MessageQueue,
    incident: Incident,
    *,
    reason: HealingReason = HealingReason.DETECTED,
    correlation_id: str | None = None,
) -> bool:
    """Send a pending incident's healing request and mark it sent; True when this call marked it."""
    if incident.healing_request != HealingRequestState.PENDING:
        return False
    request = HealingRequest(
        tenant_id=incident.tenant_id,
        incident_id=incident.id,
        reason=reason,
        request_id=DETECTED_REQUEST_ID,
        correlation_id=correlation_id or incident.metadata.get("delivery_id"),
    )
    queue.send(request.model_dump(mode="json"), attributes=request.attributes())
    # Each step may be repeated after a crash and still counts once; the mark comes last.
    activity.count(incident.tenant_id, incident.repository, ActivityCounter.ISSUES_DETECTED, once=incident.id)
    return incidents.mark_healing_requested(incident.tenant_id, incident.id)


def raise_incident(
    incidents: IncidentStore,
    activity: EventStore,
    queue: MessageQueue,
    incident: Incident,
    *,
    new_occurrence: bool = True,
    correlation_id: str | None = None,
) -> tuple[Incident, bool]:
    """Open (or update) the incident and make sure its healing request is sent. True when new."""
    stored, is_new = incidents.open_or_update(
        incident.model_copy(update={"healing_request": HealingRequestState.PENDING}), new_occurrence=new_occurrence
    )
    if stored.healing_request == HealingRequestState.PENDING:
        request_healing(incidents, activity, queue, stored, correlation_id=correlation_id)
    return stored, is_new


def sweep_pending_healing(
    incidents: IncidentStore,
    activity: EventStore,
    queue: MessageQueue,
    tenant_ids: list[str],
    *,
    now: datetime | None = None,
) -> list[str]:
    """Send every healing request a crashed writer left pending; the ids of the incidents sent."""
    now = now or utc_now()
    sent: list[str] = []
    for tenant_id in tenant_ids:
        for incident in incidents.pending_healing(
            tenant_id, detected_before=now - SWEEP_GRACE, detected_since=now - SWEEP_WINDOW
        ):
            logger.warning("healing request of %s was never sent; sending it now", incident.id)
            if request_healing(incidents, activity, queue, incident, reason=HealingReason.SWEEP):
                sent.append(incident.id)
    return sent


# ------------------------------------------------------------------ for tests that seed a table


def incident_item(incident: Incident) -> dict[str, Any]:
    """The DynamoDB item of an incident (for tests that seed a table)."""
    return dynamo_item(incident)
