"""The verification deadline on the in-memory stores: an incident whose proving run never comes is
handed to a person, never left `verifying` for ever; a run that comes (at the same moment, or late)
still decides it.

Through the scheduler's handler on moto: tests/integration/test_verification_deadline.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from mlops_bot.clock import iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.diagnosis import Problem
from mlops_bot.errors import Conflict
from mlops_bot.healing.verification import VerificationDependencies, verify
from mlops_bot.healing.verification_deadline import DeadlineStores, hand_overdue_verifications_to_people
from mlops_bot.management.healing.healing_requests import request_healing
from mlops_bot.messages import RepositoryEvent, WorkflowRun
from mlops_bot.stores.audit import InMemoryAuditLog
from mlops_bot.stores.incidents import (
    Incident,
    IncidentStatus,
    InMemoryIncidentStore,
    TimelineEntry,
    TimelineEvent,
    Verification,
)
from mlops_bot.stores.repair_claims import InMemoryRepairClaimStore, RepairClaim
from tests.support.memory import MemoryRunner, RecordingQueue

TENANT, REPO, HOLDER = "default", "acme/model", "inc-holder"
DEADLINE = timedelta(hours=24)
KEY = "open_fix_pr:python:numpy"


def incident(incident_id: str, status: IncidentStatus, *, waiting_since: datetime | None = None) -> Incident:
    verification = (
        Verification(task_token=f"token-{incident_id}", branch=f"mlops-bot/{incident_id}", since=iso(waiting_since))
        if waiting_since is not None
        else None
    )
    return Incident(
        id=incident_id,
        tenant_id=TENANT,
        repository=REPO,
        type="pipeline_failure",
        severity="high",
        status=status,
        description="CI failed",
        detected_at=iso((waiting_since or utc_now()) - timedelta(minutes=10)),
        attempts=1,
        verification=verification,
    )


class Bot:
    def __init__(self) -> None:
        self.incidents = InMemoryIncidentStore()
        self.claims = InMemoryRepairClaimStore()
        self.audit_log = InMemoryAuditLog()
        self.stores = DeadlineStores(self.incidents, self.claims, self.audit_log)

    def holder_waiting_since(self, since: datetime, *followers: str) -> None:
        self.incidents.open_or_update(incident(HOLDER, IncidentStatus.VERIFYING, waiting_since=since))
        now = iso(utc_now())
        self.claims.claim(
            RepairClaim(
                tenant_id=TENANT,
                repository=REPO,
                repair_key=KEY,
                action="open_fix_pr",
                incident_id=HOLDER,
                claimed_at=now,
                renewed_at=now,
                pull_request=7,
                branch=f"mlops-bot/{HOLDER}",
            )
        )
        for follower in followers:
            self.incidents.open_or_update(incident(follower, IncidentStatus.LINKED))
            self.claims.link(TENANT, REPO, KEY, follower)

    def sweep(self) -> list[str]:
        return hand_overdue_verifications_to_people(self.stores, [TENANT], deadline=DEADLINE)

    def status(self, incident_id: str) -> IncidentStatus:
        found = self.incidents.get(TENANT, incident_id)
        assert found is not None
        return found.status


def test_an_incident_verifying_past_the_deadline_goes_to_a_person_with_what_was_awaited_and_since_when() -> None:
    bot = Bot()
    since = utc_now() - DEADLINE - timedelta(minutes=5)
    bot.holder_waiting_since(since)
    assert bot.sweep() == [HOLDER]
    found = bot.incidents.get(TENANT, HOLDER)
    assert found is not None and found.status == IncidentStatus.AWAITING_HUMAN
    last = found.timeline[-1]
    assert last.event == TimelineEvent.VERIFICATION_OVERDUE
    assert last.details is not None and f"mlops-bot/{HOLDER}" in last.details and iso(since) in last.details
    # The task token stays: a run that still comes can prove the repair.
    assert found.verification is not None and found.verification.overdue_at is not None
    [record] = bot.audit_log.page(TENANT).items
    assert record.incident_id == HOLDER and record.result == "awaiting_human"
    assert bot.sweep() == []  # the next sweep finds nothing more to do
    assert len(bot.audit_log.page(TENANT).items) == 1


def test_before_the_deadline_nothing_changes() -> None:
    bot = Bot()
    bot.holder_waiting_since(utc_now() - DEADLINE + timedelta(minutes=5), "inc-follower")
    before = bot.incidents.get(TENANT, HOLDER)
    assert bot.sweep() == []
    assert bot.incidents.get(TENANT, HOLDER) == before
    assert bot.status("inc-follower") == IncidentStatus.LINKED
    assert bot.audit_log.page(TENANT).items == []


def test_only_verifying_incidents_are_swept() -> None:
    bot = Bot()
    long_ago = utc_now() - DEADLINE * 3
    for status in (IncidentStatus.HEALING, IncidentStatus.RESOLVED, IncidentStatus.AWAITING_HUMAN):
        bot.incidents.open_or_update(incident(f"inc-{status.value}", status, waiting_since=long_ago))
    assert bot.sweep() == []


class RunArrivesDuringTheSweep(InMemoryIncidentStore):
    """The proving run resolves the incident between the sweep's read and its write."""

    def overdue_verifications(self, tenant_id: str, *, waiting_since_before: datetime) -> list[Incident]:
        found = super().overdue_verifications(tenant_id, waiting_since_before=waiting_since_before)
        for overdue in found:
            entry = TimelineEntry.now(TimelineEvent.ISSUE_RESOLVED, "run 500 passed")
            self.close(TENANT, overdue.id, IncidentStatus.RESOLVED, entry, once="resolved-1")
        return found


def test_a_run_arriving_at_the_same_moment_wins() -> None:
    bot = Bot()
    bot.incidents = RunArrivesDuringTheSweep()
    bot.stores = DeadlineStores(bot.incidents, bot.claims, bot.audit_log)
    bot.holder_waiting_since(utc_now() - DEADLINE * 2, "inc-follower")
    assert bot.sweep() == []
    assert bot.status(HOLDER) == IncidentStatus.RESOLVED
    assert bot.status("inc-follower") == IncidentStatus.LINKED  # not handed to a person
    assert bot.audit_log.page(TENANT).items == []


def test_linked_incidents_follow_their_holder_to_a_person() -> None:
    bot = Bot()
    bot.holder_waiting_since(utc_now() - DEADLINE * 2, "inc-follower-1", "inc-follower-2")
    assert bot.sweep() == [HOLDER]
    for follower in ("inc-follower-1", "inc-follower-2"):
        found = bot.incidents.get(TENANT, follower)
        assert found is not None and found.status == IncidentStatus.AWAITING_HUMAN
        assert found.timeline[-1].details is not None and HOLDER in found.timeline[-1].details


def test_the_deadline_setting_is_bounded_and_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().verification_deadline_hours == 24
    monkeypatch.setenv("MLOPS_BOT_VERIFICATION_DEADLINE_HOURS", "6")
    assert Settings().verification_deadline_hours == 6
    for refused in ("0", "10000"):
        monkeypatch.setenv("MLOPS_BOT_VERIFICATION_DEADLINE_HOURS", refused)
        with pytest.raises(ValueError):
            Settings()


# ---------------------------------------------------------------- a late proving run


class TimedOutPlaybook(MemoryRunner):
    """The playbook stopped waiting (its own timeout): no task token is accepted any more."""

    def complete_task(self, task_token: str, output: dict[str, Any]) -> bool:
        self.refused_completions += 1
        return False


def late_run(conclusion: str, run_id: int = 900) -> RepositoryEvent:
    return RepositoryEvent(
        tenant_id=TENANT,
        delivery_id=f"d-{run_id}",
        execution_id="e",
        event="workflow_run",
        action="completed",
        received_at=iso(utc_now()),
        repository=REPO,
        workflow_run=WorkflowRun(id=run_id, conclusion=conclusion, head_branch=f"mlops-bot/{HOLDER}"),
    )


def verifier(bot: Bot, runner: MemoryRunner) -> VerificationDependencies:
    def diagnose(repository: str, run_id: int, installation_id: int | None) -> Problem:
        return Problem.unknown("no logs")

    return VerificationDependencies(Settings(), runner, diagnose, bot.incidents, repair_claims=bot.claims)


def test_a_green_run_after_the_deadline_still_resolves_the_incident_and_its_followers() -> None:
    bot = Bot()
    bot.holder_waiting_since(utc_now() - DEADLINE * 2, "inc-follower")
    bot.sweep()
    assert verify(verifier(bot, TimedOutPlaybook()), late_run("success"))
    found = bot.incidents.get(TENANT, HOLDER)
    assert found is not None and found.status == IncidentStatus.RESOLVED and found.verification is None
    assert found.timeline[-1].details is not None and "900" in found.timeline[-1].details
    assert bot.status("inc-follower") == IncidentStatus.RESOLVED
    assert verify(verifier(bot, TimedOutPlaybook()), late_run("success")) is False  # redelivered: nothing waits


def test_a_late_green_run_goes_to_a_playbook_that_still_waits() -> None:
    bot = Bot()
    bot.holder_waiting_since(utc_now() - DEADLINE * 2)
    bot.sweep()
    runner = MemoryRunner()
    assert verify(verifier(bot, runner), late_run("success"))
    assert runner.completed[f"token-{HOLDER}"]["conclusion"] == "success"  # the playbook's MarkResolved closes it


def test_a_red_run_after_the_deadline_leaves_the_incident_with_the_person() -> None:
    bot = Bot()
    bot.holder_waiting_since(utc_now() - DEADLINE * 2)
    bot.sweep()
    assert verify(verifier(bot, TimedOutPlaybook()), late_run("failure"))
    found = bot.incidents.get(TENANT, HOLDER)
    assert found is not None and found.status == IncidentStatus.AWAITING_HUMAN
    assert found.timeline[-1].details is not None and "900" in found.timeline[-1].details


class HealingQueue(RecordingQueue):
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/healing"


def test_a_person_can_ask_for_healing_again_once_the_deadline_handed_the_incident_over() -> None:
    bot = Bot()
    bot.holder_waiting_since(utc_now() - DEADLINE * 2)
    queue = HealingQueue()
    with pytest.raises(Conflict):  # verifying: "Healing already in progress" unless forced
        request_healing(bot.incidents, queue, TENANT, HOLDER, None, False, {}, "user-1")
    bot.sweep()
    request_healing(bot.incidents, queue, TENANT, HOLDER, None, False, {}, "user-1")
    assert len(queue.sent) == 1


def test_a_late_run_whose_playbook_stopped_waiting_while_the_sweep_ran_still_resolves() -> None:
    bot = Bot()
    bot.holder_waiting_since(utc_now() - DEADLINE * 2)

    class SweepDuringTheVerdict(TimedOutPlaybook):
        def complete_task(self, task_token: str, output: dict[str, Any]) -> bool:
            assert bot.sweep() == [HOLDER]  # handed over after verify read the incident as verifying
            return super().complete_task(task_token, output)

    assert verify(verifier(bot, SweepDuringTheVerdict()), late_run("success"))
    assert bot.status(HOLDER) == IncidentStatus.RESOLVED


def test_a_late_run_does_not_close_a_new_round_a_person_started() -> None:
    bot = Bot()
    bot.holder_waiting_since(utc_now() - DEADLINE * 2)
    bot.sweep()
    assert bot.incidents.begin_attempt(TENANT, HOLDER, attempts_seen=1)  # a person asked for healing again
    assert verify(verifier(bot, TimedOutPlaybook()), late_run("success"))
    assert bot.status(HOLDER) == IncidentStatus.HEALING
