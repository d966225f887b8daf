"""What the detector does with each queued event.

Every event is recorded as repository activity. A completed `workflow_run` that did not succeed
opens an incident (or adds an occurrence to the one already open for that run) and, when new,
queues it for healing. Diagnosis proper (logs, drift, flakiness) refines the incident later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.detection import flaky
from mlops_bot.detection.incidents import Incident, TimelineEntry, open_or_update
from mlops_bot.diagnosis import Problem
from mlops_bot.storage import keys
from mlops_bot.webhooks.models import RepositoryEvent

if TYPE_CHECKING:
    from mlops_bot.adapters.github import GitHubClient

FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})


def _no_logs(repository: str, run_id: int, installation_id: int | None) -> Problem:
    return Problem.unknown("log diagnosis not configured")


@dataclass
class DetectorDependencies:
    settings: Settings
    table: StateTable
    healing_queue: Queue
    diagnose: Callable[[str, int, int | None], Problem] = field(default=_no_logs)
    verify: Callable[[RepositoryEvent], bool] | None = None
    github: Callable[[str, int | None], GitHubClient | None] | None = None


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


def _diagnosed(deps: DetectorDependencies, event: RepositoryEvent, incident: Incident) -> Incident:
    """Attach the log diagnosis to a new incident: category, evidence, the failure reason."""
    run = event.workflow_run
    assert run is not None
    problem = deps.diagnose(incident.repository, run.id, event.installation_id)
    diagnosis = problem.model_dump(mode="json")
    reason = problem.evidence[0].text if problem.evidence else diagnosis["details"].get("reason")
    metadata = {**incident.metadata, "failure_reason": reason, "category": problem.category}
    deps.table.set_fields(
        keys.incident_key(incident.tenant_id, incident.id),
        {
            "diagnosis": diagnosis,
            "evidence": diagnosis["evidence"],
            "metadata": metadata,
            "description": f"{incident.description}: {problem.category} ({problem.kind})",
        },
    )
    return incident.model_copy(update={"diagnosis": diagnosis, "metadata": metadata})


def record_deployment(deps: DetectorDependencies, event: RepositoryEvent) -> Incident | None:
    """Remember the last good deployment; a failed one opens a `deployment_failure` incident."""
    status, deployment = event.deployment_status, event.deployment
    if event.event != "deployment_status" or status is None or deployment is None or not event.repository:
        return None
    if status.state == "success":
        deps.table.set_fields(
            keys.repository_key(event.tenant_id, event.repository),
            {
                "last_good_deployment": {
                    "ref": deployment.sha or deployment.ref,
                    "environment": deployment.environment,
                    "deployment_id": deployment.id,
                    "at": event.received_at,
                }
            },
            if_exists=True,
        )
        return None
    if status.state not in {"failure", "error"}:
        return None
    now = iso(utc_now())
    return Incident(
        id=keys.incident_id_for_run(event.repository, -deployment.id),
        tenant_id=event.tenant_id,
        repository=event.repository,
        type="deployment_failure",
        severity="high",
        description=f"Deployment {deployment.id} of {deployment.ref} to {deployment.environment} {status.state}",
        detected_at=now,
        metadata={
            "deployment_id": deployment.id,
            "ref": deployment.ref,
            "environment": deployment.environment,
            "installation_id": event.installation_id,
            "delivery_id": event.delivery_id,
        },
        timeline=[TimelineEntry(event="issue_detected", timestamp=now, details=status.description)],
    )


def _flaky_subjects(event: RepositoryEvent, incident: Incident | None) -> tuple[list[str], list[str]]:
    tests = list(((incident.diagnosis or {}).get("details") or {}).get("tests") or []) if incident else []
    run = event.workflow_run
    jobs = [run.name] if run is not None and run.name and run.conclusion in FAILED_CONCLUSIONS else []
    return [str(t) for t in tests], jobs


def _learn_flakiness(deps: DetectorDependencies, event: RepositoryEvent, incident: Incident | None) -> bool:
    """Feed the run into the flaky history; True when the failure's tests/jobs are known flaky."""
    run = event.workflow_run
    if run is None or not event.repository or not run.head_sha or event.action != "completed":
        return False
    tests, jobs = _flaky_subjects(event, incident)
    flaky.record_run(
        deps.table,
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
    )
    if incident is None:
        return False
    return flaky.is_known_flaky(deps.table, event.tenant_id, event.repository, tests or jobs, utc_now())


def detect(deps: DetectorDependencies, event: RepositoryEvent) -> Detection:
    recorded = record_event(deps, event)
    if event.event == "scheduled_check" and event.repository:
        from mlops_bot.monitoring.scheduled import run_drift_check

        client = deps.github(event.repository, event.installation_id) if deps.github else None
        outcome = run_drift_check(
            deps.table,
            deps.healing_queue,
            event.tenant_id,
            event.repository,
            github=client,
            dry_run=deps.settings.dry_run,
        )
        incident_id = outcome.incident_id if outcome else None
        return Detection(
            event_recorded=recorded, incident_id=incident_id, new_incident=bool(outcome and outcome.new_incident)
        )
    verified = bool(deps.verify and deps.verify(event))
    run = event.workflow_run
    if run is not None and run.head_branch and run.head_branch.startswith("mlops-bot/"):
        return Detection(event_recorded=recorded, verification=verified)  # never heal the bot's own branches
    incident = failed_run_incident(event) or record_deployment(deps, event)
    if incident is None:
        _learn_flakiness(deps, event, None)
        return Detection(event_recorded=recorded, verification=verified)
    stored, is_new = open_or_update(deps.table, incident)
    if is_new:
        if incident.type == "pipeline_failure":
            stored = _diagnosed(deps, event, stored)
            if _learn_flakiness(deps, event, stored):
                stored.metadata["known_flaky"] = True
                deps.table.set_fields(keys.incident_key(stored.tenant_id, stored.id), {"metadata": stored.metadata})
        deps.table.set_fields(
            keys.repository_key(event.tenant_id, incident.repository),
            {},
            increments={"issues_detected": 1},
            if_exists=True,
        )
        deps.healing_queue.send(
            {
                "tenant_id": stored.tenant_id,
                "incident_id": stored.id,
                "reason": "detected",
                "correlation_id": event.delivery_id,
            },
            attributes={"tenant_id": stored.tenant_id},
        )
    return Detection(event_recorded=recorded, incident_id=stored.id, new_incident=is_new, verification=verified)
