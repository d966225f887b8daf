"""The health service's checks on in-memory stand-ins: what makes the bot healthy, degraded or unhealthy."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mlops_bot.adapters.fleet import Fleet
from mlops_bot.config import Settings
from mlops_bot.management.platform import health
from mlops_bot.management.platform.cluster import FleetLayout
from mlops_bot.management.platform.health import Component
from mlops_bot.stores.incidents import Incident, IncidentStatus, IncidentType, InMemoryIncidentStore, Severity


@dataclass
class Table:
    """What the health checks need of the table: its name, and whether it answers."""

    name: str = "mlops-bot-state"
    up: bool | None = True  # None: the check itself fails

    def reachable(self) -> bool:
        if self.up is None:
            raise ConnectionError("no route to the table")
        return self.up


NO_FLEET = FleetLayout(cluster_id="c", functions=[], queues=[])  # nothing deployed: no AWS call is made


@pytest.fixture
def fleet() -> Fleet:
    unused = object()  # the layout names no queue or state machine, so no client is called
    return Fleet(lambda_client=unused, sqs_client=unused, stepfunctions_client=unused, cloudwatch_client=unused)


def healthy_github() -> Component:
    return Component(status="healthy", message="GitHub API accessible", execution_time=0.0)


def test_the_database_check_names_the_table_and_says_whether_it_answers() -> None:
    up, down = health.database_check(Table()), health.database_check(Table(up=False))

    assert (up.status, up.message, up.details) == (
        "healthy",
        "Database connection successful",
        {"table": "mlops-bot-state"},
    )
    assert (down.status, down.message) == ("unhealthy", "Database unreachable")


def test_a_check_that_raises_is_an_unhealthy_component_not_an_error() -> None:
    found = health.database_check(Table(up=None))

    assert (found.status, found.message) == ("unhealthy", "check failed: ConnectionError")


def test_readiness_needs_both_queues_configured() -> None:
    settings = Settings.model_validate({"MLOPS_BOT_EVENTS_QUEUE_URL": "", "MLOPS_BOT_HEALING_QUEUE_URL": ""})

    found = health.readiness(Table(), settings)

    assert {name: c.status for name, c in found.items()} == {
        "database": "healthy",
        "events_queue": "unhealthy",
        "healing_queue": "unhealthy",
    }
    assert found["events_queue"].message == "events queue unreachable"


def test_without_queues_the_bot_is_unhealthy_whatever_github_says(fleet: Fleet) -> None:
    assessment = health.assess(Table(), fleet, NO_FLEET, healthy_github)

    assert (assessment.status, assessment.core_ok) == ("unhealthy", False)
    assert assessment.components["queue"].message == "No queues configured"
    assert assessment.components["github_api"].status == "healthy"


@pytest.mark.parametrize(
    ("status", "counted"),
    [
        (IncidentStatus.OPEN, True),
        (IncidentStatus.AWAITING_HUMAN, True),
        (IncidentStatus.FAILED, True),
        (IncidentStatus.HEALING, False),
        (IncidentStatus.RESOLVED, False),
    ],
)
def test_pending_alerts_count_the_tenants_incidents_a_person_should_look_at(
    status: IncidentStatus, counted: bool
) -> None:
    incidents = InMemoryIncidentStore()
    for tenant, incident_id in (("t1", "inc-1"), ("t2", "inc-2")):
        incidents.open_or_update(
            Incident(
                id=incident_id,
                tenant_id=tenant,
                repository="acme/model",
                type=IncidentType.PIPELINE_FAILURE,
                severity=Severity.HIGH,
                status=status,
                description="CI failed",
                detected_at="2026-11-25T10:00:00Z",
            )
        )

    assert health.pending_alerts(incidents, "t1") == (1 if counted else 0)


def test_platform_status_is_degraded_without_queues_or_table(fleet: Fleet) -> None:
    incidents = InMemoryIncidentStore()

    up = health.platform_status(Table(), fleet, NO_FLEET, incidents, "t1")
    down = health.platform_status(Table(up=False), fleet, NO_FLEET, incidents, "t1")

    assert (up.system_status, up.queues, up.pending_alerts, up.active_healers) == ("degraded", {}, 0, 0)
    assert down.system_status == "degraded"
    assert set(up.metrics) == {"cpu_usage", "memory_usage", "disk_usage"}
