"""The healer on the in-memory store: one execution per request, noted once on the incident."""

from __future__ import annotations

import pytest

from mlops_bot.config import Settings
from mlops_bot.errors import NotFound
from mlops_bot.healing.service import HealerDependencies, start_playbook
from mlops_bot.messages import HealingReason, HealingRequest
from mlops_bot.stores.incidents import Incident, InMemoryIncidentStore
from tests.support.memory import Crash, MemoryRunner, fail_once

TENANT = "default"
MACHINES = '{"pipeline_failure_fix": "arn:aws:states:us-east-1:1:stateMachine:fix"}'


@pytest.fixture
def healer() -> HealerDependencies:
    incidents = InMemoryIncidentStore()
    incidents.open_or_update(
        Incident(
            id="inc-1",
            tenant_id=TENANT,
            repository="acme/model",
            type="pipeline_failure",
            severity="high",
            description="CI failed",
            detected_at="2026-11-25T10:00:00.000000Z",
            metadata={"delivery_id": "d-1"},
        )
    )
    settings = Settings(MLOPS_BOT_PLAYBOOK_STATE_MACHINES=MACHINES)  # type: ignore[call-arg]
    return HealerDependencies(settings=settings, runner=MemoryRunner(), incidents=incidents)


def request() -> HealingRequest:
    return HealingRequest(tenant_id=TENANT, incident_id="inc-1", request_id="detected", correlation_id="d-1")


def started(healer: HealerDependencies) -> int:
    assert isinstance(healer.runner, MemoryRunner)
    return len(healer.runner.executions)


def analysis_entries(healer: HealerDependencies) -> int:
    incident = healer.incidents.get(TENANT, "inc-1")
    assert incident is not None
    return [t.event for t in incident.timeline].count("analysis_started")


def test_a_request_starts_the_playbook_with_its_correlation_id(healer: HealerDependencies) -> None:
    start = start_playbook(healer, request())
    assert start.playbook == "pipeline_failure_fix"
    assert isinstance(healer.runner, MemoryRunner)
    [payload] = healer.runner.executions.values()
    assert payload["correlation_id"] == "d-1" and payload["reason"] == "detected"
    incident = healer.incidents.get(TENANT, "inc-1")
    assert incident is not None and incident.execution_arn == start.execution_arn


def test_a_request_delivered_twice_starts_one_execution_noted_once(healer: HealerDependencies) -> None:
    start_playbook(healer, request())
    start_playbook(healer, request().model_copy(update={"reason": HealingReason.SWEEP}))
    assert started(healer) == 1 and analysis_entries(healer) == 1


def test_a_healer_killed_between_the_start_and_the_incident_update_finishes_on_the_redelivery(
    healer: HealerDependencies,
) -> None:
    fail_once(healer.incidents, "record_playbook_start")
    with pytest.raises(Crash):
        start_playbook(healer, request())
    start_playbook(healer, request())
    assert started(healer) == 1 and analysis_entries(healer) == 1
    incident = healer.incidents.get(TENANT, "inc-1")
    assert incident is not None and incident.playbook == "pipeline_failure_fix"


def test_an_unknown_incident_is_not_found(healer: HealerDependencies) -> None:
    with pytest.raises(NotFound):
        start_playbook(healer, HealingRequest(tenant_id=TENANT, incident_id="inc-missing"))
