"""What the detector does with each queued event.

Every event is recorded as repository activity. A completed `workflow_run` that did not succeed
opens an incident (or adds an occurrence to the one already open for that run) and, when new,
queues it for healing. A new incident is diagnosed (logs, flakiness) before it is stored, so it
is stored whole in one write; its healing request then goes through `raise_incident`, which a
retry of the same delivery (or the scheduler's sweep) completes if the detector died half-way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from mlops_bot.clock import iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.detection import flaky
from mlops_bot.detection.incidents import raise_incident
from mlops_bot.detection.quarantine import QuarantinePullRequest, follow_pull_request
from mlops_bot.diagnosis import Problem
from mlops_bot.messages import BOT_BRANCH_PREFIX, FAILED_CONCLUSIONS, MessageQueue, RepositoryEvent
from mlops_bot.storage import keys
from mlops_bot.stores.events import EventRecord, EventStore, GoodDeployment
from mlops_bot.stores.flaky_history import FlakyHistory
from mlops_bot.stores.incidents import (
    Incident,
    IncidentStore,
    IncidentType,
    Severity,
    TimelineEntry,
    TimelineEvent,
)
from mlops_bot.stores.quarantines import QuarantineStore


def _no_logs(repository: str, run_id: int, installation_id: int | None) -> Problem:
    return Problem.unknown("log diagnosis not configured")


@dataclass(frozen=True)
class ScheduledCheckOutcome:
    incident_id: str | None = None
    new_incident: bool = False


@dataclass
class DetectorDependencies:
    """What `detect` works with: typed stores the handler builds (unit tests pass in-memory ones).

    `flaky_history` is where runs teach flakiness; None learns nothing. `quarantines` follow the
    bot's quarantine pull requests (`pull_request` `closed`); None leaves that to the hourly sweep.
    `scheduled_check` runs a repository's scheduled checks (drift); the handler wires it to
    `monitoring`, which sits above detection, so detection never imports it.
    """

    settings: Settings
    healing_queue: MessageQueue
    incidents: IncidentStore
    activity: EventStore
    flaky_history: FlakyHistory | None = None
    diagnose: Callable[[str, int, int | None], Problem] = field(default=_no_logs)
    verify: Callable[[RepositoryEvent], bool] | None = None
    scheduled_check: Callable[[RepositoryEvent], ScheduledCheckOutcome | None] | None = None
    quarantines: QuarantineStore | None = None


@dataclass(frozen=True)
class Detection:
    event_recorded: bool
    incident_id: str | None = None
    new_incident: bool = False
    verification: bool = False


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
            # A run's start and end (the pipeline's avg_duration): `updated_at` of a completed run is its end.
            run_started_at=run.run_started_at or run.created_at,
            run_completed_at=run.updated_at if event.action == "completed" else None,
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
    record = EventRecord(
        tenant_id=event.tenant_id,
        repository=event.repository,
        delivery_id=event.delivery_id,
        execution_id=event.execution_id,
        received_at=event.received_at,
        summary=_event_summary(event),
    )
    # a message delivered twice by SQS counts once
    return deps.activity.record(record, expires=utc_now() + timedelta(days=deps.settings.event_ttl_days))


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
        type=IncidentType.PIPELINE_FAILURE,
        severity=Severity.HIGH if run.head_branch in {"main", "master", "trunk"} else Severity.MEDIUM,
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
        timeline=[TimelineEntry.now(TimelineEvent.ISSUE_DETECTED, f"delivery {event.delivery_id}")],
    )


def _diagnosed(deps: DetectorDependencies, event: RepositoryEvent, incident: Incident) -> Incident:
    """Attach the log diagnosis to a new incident: category, evidence, the failure reason."""
    run = event.workflow_run
    assert run is not None
    problem = deps.diagnose(incident.repository, run.id, event.installation_id)
    diagnosis = problem.model_dump(mode="json")
    reason = problem.evidence[0].text if problem.evidence else diagnosis["details"].get("reason")
    metadata = {**incident.metadata, "failure_reason": reason, "category": problem.category}
    return incident.model_copy(
        update={
            "diagnosis": diagnosis,
            "evidence": diagnosis["evidence"],
            "metadata": metadata,
            "description": f"{incident.description}: {problem.category} ({problem.kind})"[:2000],
        }
    )


def record_deployment(deps: DetectorDependencies, event: RepositoryEvent) -> Incident | None:
    """Remember the last good deployment; a failed one opens a `deployment_failure` incident."""
    status, deployment = event.deployment_status, event.deployment
    if event.event != "deployment_status" or status is None or deployment is None or not event.repository:
        return None
    if status.state == "success":
        deps.activity.record_good_deployment(
            event.tenant_id,
            event.repository,
            GoodDeployment(
                ref=deployment.sha or deployment.ref,
                environment=deployment.environment,
                deployment_id=deployment.id,
                at=event.received_at,
            ),
        )
        return None
    if status.state not in {"failure", "error"}:
        return None
    now = iso(utc_now())
    return Incident(
        id=keys.incident_id_for_run(event.repository, -deployment.id),
        tenant_id=event.tenant_id,
        repository=event.repository,
        type=IncidentType.DEPLOYMENT_FAILURE,
        severity=Severity.HIGH,
        description=f"Deployment {deployment.id} of {deployment.ref} to {deployment.environment} {status.state}",
        detected_at=now,
        metadata={
            "deployment_id": deployment.id,
            "ref": deployment.ref,
            "environment": deployment.environment,
            "installation_id": event.installation_id,
            "delivery_id": event.delivery_id,
        },
        timeline=[TimelineEntry.now(TimelineEvent.ISSUE_DETECTED, status.description)],
    )


def _flaky_subjects(event: RepositoryEvent, incident: Incident | None) -> tuple[list[str], list[str]]:
    tests = list(((incident.diagnosis or {}).get("details") or {}).get("tests") or []) if incident else []
    run = event.workflow_run
    jobs = [run.name] if run is not None and run.name and run.conclusion in FAILED_CONCLUSIONS else []
    return [str(t) for t in tests], jobs


def _learn_flakiness(deps: DetectorDependencies, event: RepositoryEvent, incident: Incident | None) -> bool:
    """Feed the run into the flaky history; True when the failure's tests/jobs are known flaky."""
    run = event.workflow_run
    history = deps.flaky_history
    if history is None:
        return False
    if run is None or not event.repository or not run.head_sha or event.action != "completed":
        return False
    tests, jobs = _flaky_subjects(event, incident)
    flaky.record_run(
        history,
        event.tenant_id,
        event.repository,
        workflow=run.name or str(run.workflow_id),
        run_id=run.id,
        run_attempt=run.run_attempt or 1,
        head_sha=run.head_sha,
        conclusion=run.conclusion or "",
        failed_tests=tests,
        failed_jobs=jobs,
        at=utc_now(),
        window_days=deps.settings.flake_window_days,
    )
    if incident is None:
        return False
    return flaky.is_known_flaky(
        history,
        event.tenant_id,
        event.repository,
        tests or jobs,
        utc_now(),
        window_days=deps.settings.flake_window_days,
    )


def _follow_quarantine(deps: DetectorDependencies, event: RepositoryEvent) -> None:
    """A bot pull request closed: merged, its proposed quarantine takes effect; unmerged, it is dropped."""
    pull = event.pull_request
    if deps.quarantines is None or pull is None or event.event != "pull_request" or event.action != "closed":
        return
    if not event.repository or not str(pull.head.get("ref") or "").startswith(BOT_BRANCH_PREFIX):
        return
    merged_at = pull.merged_at or (event.received_at if pull.merged else None)
    answer = QuarantinePullRequest(state="closed", merged_at=merged_at)
    follow_pull_request(deps.quarantines, event.tenant_id, event.repository, pull.number, answer)


def _verify(deps: DetectorDependencies, event: RepositoryEvent) -> bool:
    return bool(deps.verify and deps.verify(event))


def detect(deps: DetectorDependencies, event: RepositoryEvent) -> Detection:
    recorded = record_event(deps, event)
    if event.event == "scheduled_check" and event.repository:
        outcome = deps.scheduled_check(event) if deps.scheduled_check else None
        return Detection(
            event_recorded=recorded,
            incident_id=outcome.incident_id if outcome else None,
            new_incident=bool(outcome and outcome.new_incident),
        )
    _follow_quarantine(deps, event)
    run = event.workflow_run
    if run is not None and run.head_branch and run.head_branch.startswith(BOT_BRANCH_PREFIX):
        # never heal the bot's own branches; their runs prove (or disprove) its repairs
        return Detection(event_recorded=recorded, verification=_verify(deps, event))
    incident = failed_run_incident(event) or record_deployment(deps, event)
    if incident is None:
        _learn_flakiness(deps, event, None)
        return Detection(event_recorded=recorded, verification=_verify(deps, event))
    if incident.type == IncidentType.PIPELINE_FAILURE and deps.incidents.get(incident.tenant_id, incident.id) is None:
        # Diagnose before storing: the incident is written whole, once.
        incident = _diagnosed(deps, event, incident)
        if _learn_flakiness(deps, event, incident):
            incident = incident.model_copy(update={"metadata": {**incident.metadata, "known_flaky": True}})
    # A redelivery of a delivery already recorded is not another occurrence; it only finishes
    # what a crashed attempt left undone (the healing request).
    stored, is_new = raise_incident(
        deps.incidents,
        deps.activity,
        deps.healing_queue,
        incident,
        new_occurrence=recorded,
        correlation_id=event.delivery_id,
    )
    # The failure is on the incident before a waiting playbook hears the verdict of this run.
    verified = _verify(deps, event)
    return Detection(event_recorded=recorded, incident_id=stored.id, new_incident=is_new, verification=verified)
