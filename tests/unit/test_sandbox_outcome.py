"""`replay` waits until the sandbox outcome says `settled`: the bot has finished acting for now."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_bot.local.sandbox_page import is_settled
from mlops_bot.stores.incidents import Incident, IncidentStatus, Verification


def incident(status: IncidentStatus, **fields: Any) -> Incident:
    return Incident(
        id="inc-1",
        tenant_id="default",
        repository="acme/model",
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at="2026-11-27T10:00:00.000000Z",
        status=status,
        **fields,
    )


@pytest.mark.parametrize(
    ("status", "settled"),
    [
        (IncidentStatus.OPEN, False),
        (IncidentStatus.PLANNED, True),
        (IncidentStatus.ESCALATED, True),
        (IncidentStatus.AWAITING_HUMAN, False),
        (IncidentStatus.RESOLVED, True),
        (IncidentStatus.FAILED, True),
    ],
)
def test_the_bot_is_settled_once_it_waits_for_the_world(status: IncidentStatus, settled: bool) -> None:
    assert is_settled(incident(status)) is settled


def test_a_repair_being_verified_is_settled_once_the_playbook_parked_its_token() -> None:
    assert not is_settled(incident(IncidentStatus.VERIFYING))
    assert is_settled(incident(IncidentStatus.VERIFYING, verification=Verification(task_token="token-1")))


def test_a_repair_that_needs_no_proving_run_is_settled_once_done() -> None:
    assert not is_settled(incident(IncidentStatus.HEALING))
    assert not is_settled(incident(IncidentStatus.HEALING, actions_taken=[{"action": "rollback", "status": "error"}]))
    assert is_settled(incident(IncidentStatus.HEALING, actions_taken=[{"action": "rollback", "status": "done"}]))


def test_no_incident_yet_is_not_settled() -> None:
    assert not is_settled(None)
