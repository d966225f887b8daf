"""`detect` on the in-memory stores: incidents, occurrences, and the healing request never lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mlops_bot.clock import utc_now
from mlops_bot.config import Settings
from mlops_bot.detection.incidents import sweep_pending_healing
from mlops_bot.detection.service import DetectorDependencies, ScheduledCheckOutcome, detect
from mlops_bot.diagnosis import Problem
from mlops_bot.healing.service import HealerDependencies, start_playbook
from mlops_bot.messages import HealingRequest, RepositoryEvent, WorkflowRun
from mlops_bot.storage import keys
from mlops_bot.stores.events import InMemoryEventStore
from mlops_bot.stores.flaky_history import InMemoryFlakyHistory
from mlops_bot.stores.incidents import HealingRequestState, IncidentStatus, InMemoryIncidentStore
from tests.support.memory import Crash, MemoryRunner, RecordingQueue, crash_after, fail_once

REPO = "acme/model"
TENANT = "default"


class Detector:
    def __init__(self) -> None:
        self.incidents = InMemoryIncidentStore()
        self.activity = InMemoryEventStore(repositories={(TENANT, REPO)})
        self.queue = RecordingQueue()
        self.diagnosed: list[int] = []
        self.deps = DetectorDependencies(
            settings=Settings(),
            healing_queue=self.queue,
            diagnose=self.diagnose,
            incidents=self.incidents,
            activity=self.activity,
        )

    def diagnose(self, repository: str, run_id: int, installation_id: int | None) -> Problem:
        self.diagnosed.append(run_id)
        return Problem.unknown("no logs in a unit test")

    def requests(self) -> list[HealingRequest]:
        return [HealingRequest.model_validate(body) for body in self.queue.sent]

    def sweep(self, minutes_later: int = 10) -> list[str]:
        return sweep_pending_healing(
            self.incidents, self.activity, self.queue, [TENANT], now=utc_now() + timedelta(minutes=minutes_later)
        )


@pytest.fixture
def detector() -> Detector:
    return Detector()


def failed_run(
    delivery: str, run_id: int = 42, branch: str = "main", attempt: int = 1, **extra: Any
) -> RepositoryEvent:
    return RepositoryEvent(
        tenant_id=TENANT,
        delivery_id=delivery,
        execution_id=f"exec-{delivery}",
        event="workflow_run",
        action="completed",
        received_at=utc_now().isoformat(),
        repository=REPO,
        workflow_run=WorkflowRun(
            id=run_id, name="CI", conclusion="failure", head_branch=branch, head_sha="abc", run_attempt=attempt
        ),
        **extra,
    )


INCIDENT_ID = keys.incident_id_for_run(REPO, 42)


def test_a_failed_run_opens_one_incident_and_queues_one_healing_request_with_its_delivery(detector: Detector) -> None:
    detection = detect(detector.deps, failed_run("d-1"))
    assert detection.new_incident and detection.incident_id == INCIDENT_ID
    incident = detector.incidents.get(TENANT, INCIDENT_ID)
    assert incident is not None and incident.status == IncidentStatus.OPEN
    assert incident.healing_request == HealingRequestState.REQUESTED
    assert incident.diagnosis is not None and incident.diagnosis["category"] == "unknown"
    [request] = detector.requests()
    assert (request.incident_id, request.correlation_id) == (INCIDENT_ID, "d-1")
    assert detector.queue.attributes == [{"tenant_id": TENANT}]
    assert detector.activity.counters[(TENANT, REPO, "issues_detected")] == 1


def test_the_same_failure_again_counts_an_occurrence_and_asks_for_no_second_healing(detector: Detector) -> None:
    detect(detector.deps, failed_run("d-1"))
    detect(detector.deps, failed_run("d-2", attempt=2))
    incident = detector.incidents.get(TENANT, INCIDENT_ID)
    assert incident is not None and incident.occurrences == 2
    assert [t.event for t in incident.timeline] == ["issue_detected", "failure_repeated"]
    assert len(detector.requests()) == 1
    assert detector.diagnosed == [42]  # a known incident is not diagnosed again


def test_a_redelivered_message_is_not_another_occurrence(detector: Detector) -> None:
    detect(detector.deps, failed_run("d-1"))
    detect(detector.deps, failed_run("d-1"))
    incident = detector.incidents.get(TENANT, INCIDENT_ID)
    assert incident is not None and incident.occurrences == 1
    assert len(detector.requests()) == 1


def test_the_bots_own_branch_is_never_healed(detector: Detector) -> None:
    detection = detect(detector.deps, failed_run("d-1", branch="mlops-bot/inc-1"))
    assert detection.incident_id is None and detector.queue.sent == []


def test_a_scheduled_check_goes_to_the_check_the_handler_wired(detector: Detector) -> None:
    seen: list[str] = []

    def check(event: RepositoryEvent) -> ScheduledCheckOutcome:
        seen.append(event.delivery_id)
        return ScheduledCheckOutcome("inc-drift", True)

    detector.deps.scheduled_check = check
    event = failed_run("scheduled-1").model_copy(update={"event": "scheduled_check", "workflow_run": None})
    detection = detect(detector.deps, event)
    assert seen == ["scheduled-1"] and detection.incident_id == "inc-drift" and detection.new_incident


# ------------------------------------------------------------------ a repair is never silently lost


def test_a_detector_killed_between_the_incident_and_the_queue_sends_the_request_on_the_retry(
    detector: Detector,
) -> None:
    fail_once(detector.queue, "send")
    with pytest.raises(Crash):
        detect(detector.deps, failed_run("d-1"))
    stored = detector.incidents.get(TENANT, INCIDENT_ID)
    assert stored is not None and stored.healing_request == HealingRequestState.PENDING
    assert detector.queue.sent == []

    detect(detector.deps, failed_run("d-1"))  # SQS delivers the message again

    [request] = detector.requests()
    assert request.incident_id == INCIDENT_ID and request.correlation_id == "d-1"
    healed = detector.incidents.get(TENANT, INCIDENT_ID)
    assert healed is not None and healed.healing_request == HealingRequestState.REQUESTED
    assert healed.occurrences == 1
    assert detector.activity.counters[(TENANT, REPO, "issues_detected")] == 1
    detect(detector.deps, failed_run("d-1"))
    assert len(detector.requests()) == 1


def test_without_a_retry_the_schedulers_sweep_sends_the_request_once(detector: Detector) -> None:
    fail_once(detector.queue, "send")
    with pytest.raises(Crash):
        detect(detector.deps, failed_run("d-1"))
    assert detector.sweep(minutes_later=1) == []  # a detector may still be working on it
    assert detector.sweep() == [INCIDENT_ID]
    assert detector.sweep() == []
    [request] = detector.requests()
    assert request.incident_id == INCIDENT_ID and request.reason == "sweep"
    assert request.correlation_id == "d-1"


def test_a_request_sent_twice_by_a_crash_after_the_send_starts_one_playbook(detector: Detector) -> None:
    crash_after(detector.queue, "send")
    with pytest.raises(Crash):
        detect(detector.deps, failed_run("d-1"))
    detect(detector.deps, failed_run("d-1"))
    assert len(detector.requests()) == 2  # at least once on the queue ...
    runner = MemoryRunner()
    healer = HealerDependencies(
        settings=Settings(
            MLOPS_BOT_PLAYBOOK_STATE_MACHINES='{"pipeline_failure_fix": "arn:aws:states:us-east-1:1:stateMachine:fix"}'
        ),  # type: ignore[call-arg]
        runner=runner,
        incidents=detector.incidents,
    )
    for request in detector.requests():
        start_playbook(healer, request)
    assert len(runner.executions) == 1  # ... and exactly once as work
    incident = detector.incidents.get(TENANT, INCIDENT_ID)
    assert incident is not None and [t.event for t in incident.timeline].count("analysis_started") == 1


def test_with_a_flaky_history_a_job_that_passed_on_a_rerun_marks_its_next_failure_known_flaky() -> None:
    detector = Detector()
    detector.deps.flaky_history = InMemoryFlakyHistory()
    detect(detector.deps, failed_run("d-1", run_id=42))
    passed = failed_run("d-2", run_id=42, attempt=2)
    assert passed.workflow_run is not None
    passed.workflow_run.conclusion = "success"
    detect(detector.deps, passed)
    detection = detect(detector.deps, failed_run("d-3", run_id=43))
    incident = detector.incidents.get(TENANT, str(detection.incident_id))
    assert incident is not None and incident.metadata.get("known_flaky") is True


def test_without_a_flaky_history_nothing_is_learnt(detector: Detector) -> None:
    detect(detector.deps, failed_run("d-1", run_id=42))
    passed = failed_run("d-2", run_id=42, attempt=2)
    assert passed.workflow_run is not None
    passed.workflow_run.conclusion = "success"
    detect(detector.deps, passed)
    detection = detect(detector.deps, failed_run("d-3", run_id=43))
    incident = detector.incidents.get(TENANT, str(detection.incident_id))
    assert incident is not None and "known_flaky" not in incident.metadata


@pytest.mark.parametrize(("window_days", "known_flaky"), [(14, True), (3, False)])
def test_the_flake_window_setting_decides_what_detection_counts_as_known_flaky(
    window_days: int, known_flaky: bool
) -> None:
    """`MLOPS_BOT_FLAKE_WINDOW_DAYS` is the window everywhere: a flaky pass five days ago counts
    within a 14-day window and not within a 3-day one."""
    from mlops_bot.detection import flaky

    detector = Detector()
    detector.deps.settings = Settings.model_validate({"MLOPS_BOT_FLAKE_WINDOW_DAYS": window_days})
    history = InMemoryFlakyHistory()
    detector.deps.flaky_history = history
    then = utc_now() - timedelta(days=5)
    for attempt, conclusion in ((1, "failure"), (2, "success")):
        flaky.record_run(
            history, TENANT, REPO, workflow="CI", run_id=42, run_attempt=attempt, head_sha="abc",
            conclusion=conclusion, failed_tests=[], failed_jobs=["CI"] if conclusion == "failure" else [],
            at=then + timedelta(minutes=attempt), window_days=window_days,
        )  # fmt: skip
    detection = detect(detector.deps, failed_run("d-3", run_id=43))
    incident = detector.incidents.get(TENANT, str(detection.incident_id))
    assert incident is not None and bool(incident.metadata.get("known_flaky")) is known_flaky
