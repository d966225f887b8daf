"""What the detector does with each queued event.

Every event is recorded as repository activity. A completed `workflow_run` that did not succeed
opens an incident (or adds an occurrence to the one already open for that run) and, when new,
queues it for healing. Diagnosis proper (logs, drift, flakiness) refines the incident later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.detection.incidents import Incident, TimelineEntry, open_or_update
from mlops_bot.storage import keys
from mlops_bot.webhooks.models import RepositoryEvent

FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})


@dataclass
class DetectorDependencies:
    settings: Settings
    table: StateTable
    healing_queue: Queue


@dataclass(frozen=True)
class Detection:
    event_recorded: bool
    incident_id: str | None = None
    new_incident: bool = False


def _event_summary(event: RepositoryEvent) -> dict[str, Any]:
    summary: dict[str, Any] = {"event": event.event, "action": event.action, "sender": event.sender}
    if event.workflow_run:
        run = event.workflow_run
        summary.update(
            workflow=run.name,
            run_id=run.id,
            conclusion=run.conclusion,
            status=run.status,
            head_branch=run.head_branch,
            head_sha=run.head_sha,
            run_attempt=run.run_attempt,
        )
    if event.ref:
        summary["ref"] = event.ref
    if event.pull_request:
        summary["pull_request"] = event.pull_request.number
    if event.deployment_status:
        summary["deployment_state"] = event.deployment_status.state
    return {k: v for k, v in summary.items() if v is not None}


def record_event(deps: DetectorDependencies, event: RepositoryEvent) -> bool:
    """Store the event once (keyed by delivery) and bump the repository's activity counters."""
    if not event.repository:
        return False
    now = utc_now()
    stored = deps.table.put_new(
        {
            **keys.event_key(event.tenant_id, event.repository, event.received_at, event.delivery_id),
            "gsi1pk": keys.events_index(event.tenant_id),
            "gsi1sk": f"{event.received_at}#{event.delivery_id}",
            "entity": "event",
            "tenant_id": event.tenant_id,
            "repository": event.repository,
            "delivery_id": event.delivery_id,
            "execution_id": event.execution_id,
            "received_at": event.received_at,
            "summary": _event_summary(event),
            "expires_at": epoch_seconds(now + timedelta(days=deps.settings.event_ttl_days)),
        }
    )
    if stored:  # a message delivered twice by SQS counts once
        deps.table.set_fields(
            keys.repository_key(event.tenant_id, event.repository),
            {"last_event": event.received_at},
            increments={"total_events": 1},
            if_exists=True,
        )
    return stored


def failed_run_incident(event: RepositoryEvent) -> Incident | None:
    """The incident a failed, completed workflow run opens; None for anything else."""
    run = event.workflow_run
    if event.event != "workflow_run" or run is None or not event.repository:
        return None
    if event.action != "completed" or run.conclusion not in FAILED_CONCLUSIONS:
        return None
    now = iso(utc_now())
    return Incident(
        id=keys.incident_id_for_run(event.repository, run.id),
        tenant_id=event.tenant_id,
        repository=event.repository,
        type="pipeline_failure",
        severity="high" if run.head_branch in {"main", "master", "trunk"} else "medium",
        description=f"Workflow '{run.name or run.id}' {run.conclusion} on {run.head_branch or 'unknown branch'}",
        detected_at=now,
        metadata={
            "workflow_name": run.name,
            "run_id": run.id,
            "run_attempt": run.run_attempt,
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "html_url": run.html_url,
            "conclusion": run.conclusion,
            "workflow_path": run.path,
            "delivery_id": event.delivery_id,
            "installation_id": event.installation_id,
            "failure_reason": None,
        },
        timeline=[TimelineEntry(event="issue_detected", timestamp=now, details=f"delivery {event.delivery_id}")],
    )


def detect(deps: DetectorDependencies, event: RepositoryEvent) -> Detection:
    recorded = record_event(deps, event)
    incident = failed_run_incident(event)
    if incident is None:
        return Detection(event_recorded=recorded)
    stored, is_new = open_or_update(deps.table, incident)
    if is_new:
        deps.table.set_fields(
            keys.repository_key(event.tenant_id, incident.repository),
            {},
            increments={"issues_detected": 1},
            if_exists=True,
        )
        deps.healing_queue.send(
            {"tenant_id": stored.tenant_id, "incident_id": stored.id, "reason": "detected"},
            attributes={"tenant_id": stored.tenant_id},
        )
    return Detection(event_recorded=recorded, incident_id=stored.id, new_incident=is_new)
