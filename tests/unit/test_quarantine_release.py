"""Quarantined tests come out of quarantine: the stability rule and the scheduler's sweep, on in-memory stores.

A test counts as quarantined only once its quarantine pull request is merged: the sweep asks about
the pull request first (open: it waits; closed unmerged: the record is dropped). A merged test is
released only when the flake window has passed since the merge and the flaky history counted
passing runs of it over the window, with no flaky pass and no failure. The sweep opens one
`flaky_test_stable` incident per repository, once. The same path on DynamoDB and
the stand-in GitHub, up to the release pull request: tests/integration/test_quarantine_release.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mlops_bot.clock import iso
from mlops_bot.config import Settings
from mlops_bot.detection.flaky import record_run
from mlops_bot.detection.quarantine import (
    QuarantinePullRequest,
    QuarantineSweepStores,
    stable_quarantined,
    sweep_stable_quarantines,
)
from mlops_bot.detection.service import DetectorDependencies, detect
from mlops_bot.healing.planner import PlanningContext, plan_repair
from mlops_bot.messages import PullRequest, RepositoryEvent
from mlops_bot.stores.events import InMemoryEventStore
from mlops_bot.stores.flaky_history import InMemoryFlakyHistory
from mlops_bot.stores.incidents import HealingRequestState, IncidentType, InMemoryIncidentStore
from mlops_bot.stores.quarantines import InMemoryQuarantineStore, QuarantinedTest, QuarantineStatus
from mlops_bot.stores.repositories import InMemoryRepositoryStore, Repository, RepositoryStatus
from tests.support.memory import RecordingQueue

TENANT, REPO, OTHER = "default", "acme/churn-model", "acme/forecast"
TEST = "tests/test_training.py::test_early_stopping"
SECOND = "tests/test_training.py::test_checkpoint"
DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WINDOW = 14
_run_ids = iter(range(1, 10_000))


def flaky_pass(history: InMemoryFlakyHistory, at: datetime, *tests: str, repository: str = REPO) -> None:
    """The tests fail, and a re-run of the same commit passes: a flaky pass."""
    sha = f"sha-{next(_run_ids)}"
    for attempt, conclusion, failed in ((1, "failure", list(tests)), (2, "success", [])):
        record_run(
            history,
            TENANT,
            repository,
            workflow="CI",
            run_id=next(_run_ids),
            run_attempt=attempt,
            head_sha=sha,
            conclusion=conclusion,
            failed_tests=failed,
            failed_jobs=[],
            at=at + timedelta(minutes=attempt),
            window_days=WINDOW,
        )


def passing_run(history: InMemoryFlakyHistory, at: datetime, repository: str = REPO) -> None:
    record_run(
        history,
        TENANT,
        repository,
        workflow="CI",
        run_id=next(_run_ids),
        run_attempt=1,
        head_sha=f"sha-{next(_run_ids)}",
        conclusion="success",
        failed_tests=[],
        failed_jobs=[],
        at=at,
        window_days=WINDOW,
    )


def failed_run(history: InMemoryFlakyHistory, at: datetime, *tests: str) -> None:
    record_run(
        history,
        TENANT,
        REPO,
        workflow="CI",
        run_id=next(_run_ids),
        run_attempt=1,
        head_sha=f"sha-{next(_run_ids)}",
        conclusion="failure",
        failed_tests=list(tests),
        failed_jobs=[],
        at=at,
        window_days=WINDOW,
    )


QUARANTINED_AT = DAY0 + timedelta(hours=1)
MERGED = QuarantinePullRequest(state="closed", merged_at=iso(QUARANTINED_AT))


def quarantined(test_id: str = TEST, repository: str = REPO, at: datetime = QUARANTINED_AT) -> QuarantinedTest:
    return QuarantinedTest(
        tenant_id=TENANT,
        repository=repository,
        test_id=test_id,
        quarantined_at=iso(at),
        incident_id="inc-quarantine",
        workflow="CI",
        installation_id=5,
        pull_request=12,
    )


def daily_passes(history: InMemoryFlakyHistory, days: range, repository: str = REPO) -> None:
    for day in days:
        passing_run(history, DAY0 + timedelta(days=day), repository)


AFTER_WINDOW = DAY0 + timedelta(days=WINDOW, hours=2)


@pytest.fixture
def history() -> InMemoryFlakyHistory:
    found = InMemoryFlakyHistory()
    flaky_pass(found, DAY0, TEST, SECOND)  # what got the tests quarantined
    return found


def stable(history: InMemoryFlakyHistory, now: datetime, *tests: QuarantinedTest) -> list[str]:
    return [t.test_id for t in stable_quarantined(history, TENANT, REPO, list(tests), now, window_days=WINDOW)]


def test_a_test_passing_for_the_whole_window_since_its_quarantine_is_stable(history: InMemoryFlakyHistory) -> None:
    daily_passes(history, range(1, WINDOW))
    assert stable(history, AFTER_WINDOW, quarantined()) == [TEST]


def test_a_flaky_pass_within_the_window_keeps_it_quarantined(history: InMemoryFlakyHistory) -> None:
    daily_passes(history, range(1, WINDOW))
    flaky_pass(history, DAY0 + timedelta(days=10), TEST)
    assert stable(history, AFTER_WINDOW, quarantined(), quarantined(SECOND)) == [SECOND]


def test_a_failure_within_the_window_keeps_it_quarantined(history: InMemoryFlakyHistory) -> None:
    daily_passes(history, range(1, WINDOW))
    failed_run(history, DAY0 + timedelta(days=12), TEST)
    assert stable(history, AFTER_WINDOW, quarantined(), quarantined(SECOND)) == [SECOND]


def test_no_runs_in_the_window_is_no_evidence_of_stability(history: InMemoryFlakyHistory) -> None:
    assert stable(history, AFTER_WINDOW, quarantined()) == []


def test_nothing_is_released_before_the_window_has_passed_since_the_quarantine(
    history: InMemoryFlakyHistory,
) -> None:
    daily_passes(history, range(1, WINDOW))
    assert stable(history, DAY0 + timedelta(days=WINDOW - 1), quarantined()) == []
    # Quarantined later than the first flake: the window counts from the quarantine.
    assert stable(history, AFTER_WINDOW, quarantined(at=DAY0 + timedelta(days=3))) == []


class Sweep:
    def __init__(self, history: InMemoryFlakyHistory, paused: frozenset[str] = frozenset()) -> None:
        self.quarantines = InMemoryQuarantineStore()
        self.repositories = InMemoryRepositoryStore()
        self.incidents = InMemoryIncidentStore()
        self.queue = RecordingQueue()
        self.stores = QuarantineSweepStores(
            self.quarantines,
            history,
            self.repositories,
            self.incidents,
            InMemoryEventStore({(TENANT, REPO), (TENANT, OTHER)}),
        )
        for name in (REPO, OTHER):
            status = RepositoryStatus.PAUSED if name in paused else RepositoryStatus.ACTIVE
            self.repositories.enroll(Repository(tenant_id=TENANT, full_name=name, status=status))
        # What GitHub answers for each (repository, pull request); absent: it did not answer.
        self.pull_requests: dict[tuple[str, int], QuarantinePullRequest] = {(REPO, 12): MERGED, (OTHER, 12): MERGED}
        self.asked: list[tuple[str, int | None, int]] = []

    def lookup(self, repository: str, installation_id: int | None, number: int) -> QuarantinePullRequest | None:
        self.asked.append((repository, installation_id, number))
        return self.pull_requests.get((repository, number))

    def run(self, now: datetime = AFTER_WINDOW) -> list[str]:
        return sweep_stable_quarantines(
            self.stores, self.queue, [TENANT], window_days=WINDOW, now=now, pull_requests=self.lookup
        )


def test_the_sweep_opens_one_release_incident_per_repository_once(history: InMemoryFlakyHistory) -> None:
    flaky_pass(history, DAY0, TEST, repository=OTHER)
    daily_passes(history, range(1, WINDOW))
    daily_passes(history, range(1, WINDOW), OTHER)
    sweep = Sweep(history)
    for test in (quarantined(TEST), quarantined(SECOND), quarantined(TEST, OTHER)):
        sweep.quarantines.quarantine(test)

    opened = sweep.run()

    assert len(opened) == 2 and len(sweep.queue.sent) == 2
    incidents = {i.repository: i for i in sweep.incidents.all(TENANT)}
    assert set(incidents) == {REPO, OTHER}
    mine = incidents[REPO]
    assert mine.type is IncidentType.FLAKY_TEST_STABLE
    assert mine.metadata["tests"] == sorted([TEST, SECOND])
    assert mine.installation_id == 5
    assert mine.healing_request == HealingRequestState.REQUESTED
    assert {m["incident_id"] for m in sweep.queue.sent} == set(opened)
    # The healer's planner turns it into the release of exactly those tests.
    plan = plan_repair(mine, PlanningContext())
    assert (plan.action, sorted(plan.details["tests"])) == ("release_flaky_tests", sorted([TEST, SECOND]))

    assert sweep.run() == []
    assert sweep.run(AFTER_WINDOW + timedelta(hours=1)) == []
    assert len(sweep.queue.sent) == 2 and len(sweep.incidents.all(TENANT)) == 2


def test_the_sweep_leaves_unstable_and_paused_repositories_alone(history: InMemoryFlakyHistory) -> None:
    flaky_pass(history, DAY0, TEST, repository=OTHER)
    daily_passes(history, range(1, WINDOW), OTHER)
    sweep = Sweep(history, paused=frozenset({OTHER}))
    sweep.quarantines.quarantine(quarantined(TEST))  # no runs since: no evidence
    sweep.quarantines.quarantine(quarantined(TEST, OTHER))  # stable, but its repository is paused

    assert sweep.run() == []
    assert sweep.queue.sent == [] and sweep.incidents.all(TENANT) == []


def test_a_quarantine_whose_pull_request_is_still_open_waits_and_is_not_released(
    history: InMemoryFlakyHistory,
) -> None:
    daily_passes(history, range(1, WINDOW))
    sweep = Sweep(history)
    sweep.pull_requests[REPO, 12] = QuarantinePullRequest(state="open")
    sweep.quarantines.quarantine(quarantined(TEST))

    assert sweep.run() == []
    assert sweep.incidents.all(TENANT) == [] and sweep.queue.sent == []
    [waiting] = sweep.quarantines.of_tenant(TENANT)
    assert waiting.status is QuarantineStatus.PROPOSED
    assert sweep.asked == [(REPO, 5, 12)]

    # GitHub does not answer the next hour: it still waits; then the pull request is merged.
    del sweep.pull_requests[REPO, 12]
    assert sweep.run() == [] and sweep.incidents.all(TENANT) == []
    sweep.pull_requests[REPO, 12] = MERGED
    [opened] = sweep.run()
    assert sweep.incidents.get(TENANT, opened) is not None
    [merged] = sweep.quarantines.of_tenant(TENANT)
    assert (merged.status, merged.merged_at) == (QuarantineStatus.MERGED, iso(QUARANTINED_AT))
    asked = len(sweep.asked)
    sweep.run()
    assert len(sweep.asked) == asked  # merged is settled: GitHub is not asked again


def test_a_quarantine_closed_without_merging_is_dropped_and_releases_nothing(history: InMemoryFlakyHistory) -> None:
    daily_passes(history, range(1, WINDOW))
    sweep = Sweep(history)
    sweep.pull_requests[REPO, 12] = QuarantinePullRequest(state="closed", merged_at=None)
    sweep.quarantines.quarantine(quarantined(TEST))
    sweep.quarantines.quarantine(quarantined(SECOND))

    assert sweep.run() == []
    assert sweep.quarantines.of_tenant(TENANT) == []
    assert sweep.incidents.all(TENANT) == [] and sweep.queue.sent == []
    assert sweep.asked == [(REPO, 5, 12)]  # one question per pull request, not per test


def test_the_window_counts_from_the_merge_not_from_the_pull_request(history: InMemoryFlakyHistory) -> None:
    daily_passes(history, range(1, WINDOW + 5))
    sweep = Sweep(history)
    sweep.pull_requests[REPO, 12] = QuarantinePullRequest(state="closed", merged_at=iso(DAY0 + timedelta(days=4)))
    sweep.quarantines.quarantine(quarantined(TEST))

    assert sweep.run() == []  # merged four days in: the window has not passed since the merge
    assert len(sweep.run(DAY0 + timedelta(days=4 + WINDOW, hours=1))) == 1


def closed_pull_request(
    number: int, *, merged_at: str | None, head: str = "mlops-bot/inc-quarantine"
) -> RepositoryEvent:
    """GitHub's `pull_request` webhook, `closed` (merged or not), as the ingress queues it to the detector."""
    return RepositoryEvent(
        tenant_id=TENANT,
        delivery_id=f"d-{number}-{head}",
        execution_id="exec",
        event="pull_request",
        action="closed",
        received_at=iso(AFTER_WINDOW),
        repository=REPO,
        pull_request=PullRequest(
            number=number, state="closed", merged=merged_at is not None, merged_at=merged_at, head={"ref": head}
        ),
    )


def test_the_pull_request_webhook_settles_a_quarantine_without_waiting_for_the_sweep() -> None:
    quarantines = InMemoryQuarantineStore()
    deps = DetectorDependencies(
        settings=Settings(),
        healing_queue=RecordingQueue(),
        incidents=InMemoryIncidentStore(),
        activity=InMemoryEventStore({(TENANT, REPO)}),
        quarantines=quarantines,
    )
    quarantines.quarantine(quarantined(TEST))  # pull request 12
    quarantines.quarantine(quarantined(SECOND).model_copy(update={"pull_request": 13}))

    detect(deps, closed_pull_request(12, merged_at=None, head="feature/other"))  # not the bot's: ignored
    detect(deps, closed_pull_request(12, merged_at=iso(QUARANTINED_AT)))
    detect(deps, closed_pull_request(13, merged_at=None))

    [merged] = quarantines.of_tenant(TENANT)
    assert (merged.test_id, merged.status, merged.merged_at) == (TEST, QuarantineStatus.MERGED, iso(QUARANTINED_AT))
    detect(deps, closed_pull_request(12, merged_at=None))  # a stale or reordered copy changes nothing now
    assert quarantines.of_tenant(TENANT) == [merged]
