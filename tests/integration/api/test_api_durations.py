"""Pipeline `avg_duration` and `healing_actions[].duration` come from recorded start and end times."""

from __future__ import annotations

import uuid
from datetime import timedelta

from mlops_bot.adapters.sqs import Queue
from mlops_bot.clock import iso, utc_now
from mlops_bot.config import Settings, get_settings
from mlops_bot.detection.service import DetectorDependencies, record_event
from mlops_bot.healing.actions import PlaybookState, execute, plan
from mlops_bot.stores.events import DynamoEventStore
from mlops_bot.stores.flaky_history import DynamoFlakyHistory
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.webhooks.models import RepositoryEvent, WorkflowRun
from tests.integration.api.conftest import Api
from tests.support.stores import action_dependencies


def _completed_run(run_id: int, started_minutes_ago: int, seconds: int) -> RepositoryEvent:
    started = utc_now() - timedelta(minutes=started_minutes_ago)
    return RepositoryEvent(
        tenant_id="default",
        delivery_id=str(uuid.uuid4()),
        execution_id=str(uuid.uuid4()),
        event="workflow_run",
        action="completed",
        received_at=iso(started + timedelta(seconds=seconds + 1)),
        repository="acme/model",
        workflow_run=WorkflowRun(
            id=run_id,
            name="CI",
            conclusion="success",
            status="completed",
            created_at=iso(started - timedelta(minutes=60)),  # a re-run: the run was created an hour earlier
            run_started_at=iso(started),
            updated_at=iso(started + timedelta(seconds=seconds)),
        ),
    )


def test_pipeline_avg_duration_comes_from_the_runs_start_and_end(api: Api) -> None:
    api.repository("acme/model")
    created = api.client.post(
        "/api/pipelines", headers=api.key("write"), json={"name": "CI", "repository": "acme/model", "workflow": "CI"}
    ).json()
    assert created["metrics"]["avg_duration"] is None
    settings = get_settings()
    deps = DetectorDependencies(
        settings=settings,
        healing_queue=Queue(settings.healing_queue_url),
        incidents=DynamoIncidentStore(api.table),
        activity=DynamoEventStore(api.table),
        flaky_history=DynamoFlakyHistory(api.table),
    )
    record_event(deps, _completed_run(1, 30, 100))
    record_event(deps, _completed_run(2, 20, 200))
    body = api.client.get(f"/api/pipelines/{created['id']}", headers=api.key("read")).json()
    assert body["metrics"]["total_runs"] == 2
    assert body["metrics"]["avg_duration"] == 150.0


def test_healing_actions_carry_their_duration(api: Api) -> None:
    incident = api.incident(status="open", diagnosis={"category": "unknown", "kind": "k", "details": {}})
    settings = Settings(MLOPS_BOT_TABLE_NAME=api.table.name)  # type: ignore[call-arg]
    deps = action_dependencies(settings, api.table, lambda repo, inst: None)
    state = PlaybookState(tenant_id="default", incident_id=incident["id"], dry_run=True)
    state.planned = {"value": plan(deps, state)}
    execute(deps, state)
    failures = api.client.get("/api/failures", headers=api.key("read")).json()["failures"]
    [action] = next(f for f in failures if f["id"] == incident["id"])["healing_actions"]
    assert action["duration"] is not None and action["duration"] >= 0
    issue = api.client.get(f"/api/v1/issues/{incident['id']}", headers=api.key("read")).json()
    assert issue["actions_taken"][0]["started_at"] <= issue["actions_taken"][0]["executed_at"]
