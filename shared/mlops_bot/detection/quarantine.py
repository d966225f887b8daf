"""Releasing quarantined tests: which are stable again, and the incident that asks for their release.

A test is quarantined only once the bot's quarantine pull request is *merged*: the record
(`stores.quarantines`) is written `proposed` when the pull request opens, and each sweep asks GitHub
about the pull requests of the proposed ones (`GET /repos/{o}/{r}/pulls/{n}`): merged, the record
turns `merged` at GitHub's `merged_at`; closed unmerged, the record is dropped and nothing is ever
released for it; still open (or GitHub did not answer), it waits for the next sweep. The
`pull_request` webhook (`closed` on a bot branch, through the detector) settles them at once.

A merged quarantine is *stable* when the flake window has passed since the merge and, over the window,
the flaky history (`detection.flaky`) counted passing runs of it, none of them a flaky pass, and no
failure of it. A test without counted runs in the window is not stable: the bot never releases a
quarantine on no evidence.

The scheduler's hourly sweep opens, per repository with stable tests, one `flaky_test_stable`
incident (stored `healing_request: pending`, then queued, like detection does); the healer plans
`release_flaky_tests` for it and the playbook opens the release pull request. The incident id is
derived from the repository, the tests and their quarantine, so a rerun of the sweep finds it and
adds nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from mlops_bot.clock import iso, utc_now
from mlops_bot.detection.flaky import DEFAULT_WINDOW_DAYS, flake_rates
from mlops_bot.detection.incidents import raise_incident
from mlops_bot.messages import MessageQueue
from mlops_bot.stores.events import EventStore
from mlops_bot.stores.flaky_history import FlakyHistory
from mlops_bot.stores.incidents import Incident, IncidentStore, IncidentType, Severity, TimelineEntry, TimelineEvent
from mlops_bot.stores.quarantines import QuarantinedTest, QuarantineStatus, QuarantineStore
from mlops_bot.stores.repositories import RepositoryStatus, RepositoryStore

if TYPE_CHECKING:
    from mlops_bot.adapters.github import GitHubClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuarantinePullRequest:
    """What GitHub says of a quarantine pull request: `state` (`open`/`closed`) and `merged_at`."""

    state: str
    merged_at: str | None = None


class PullRequestLookup(Protocol):
    def __call__(self, repository: str, installation_id: int | None, number: int) -> QuarantinePullRequest | None:
        """The pull request's state; None when GitHub could not be asked (the quarantine waits)."""
        ...


def github_pull_requests(client_for: Callable[[str, int | None], GitHubClient | None]) -> PullRequestLookup:
    """A lookup through the bot's GitHub clients, one per repository and sweep; errors are logged and wait.

    The GitHub client (githubkit) is imported by the first lookup: a sweep with nothing proposed never loads it.
    """
    clients: dict[tuple[str, int | None], GitHubClient | None] = {}

    def lookup(repository: str, installation_id: int | None, number: int) -> QuarantinePullRequest | None:
        from mlops_bot.adapters.github import GitHubError

        try:
            if (repository, installation_id) not in clients:
                clients[repository, installation_id] = client_for(repository, installation_id)
            client = clients[repository, installation_id]
            if client is None:
                return None
            found = client.get_pull_request(repository, number)
        except GitHubError as exc:
            logger.warning(
                "quarantine pull request not read: it waits for the next sweep",
                extra={"repository": repository, "pull_request": number, "error": str(exc)},
            )
            return None
        return QuarantinePullRequest(state=found.state, merged_at=found.merged_at)

    return lookup


@dataclass(frozen=True)
class QuarantineSweepStores:
    quarantines: QuarantineStore
    flaky_history: FlakyHistory
    repositories: RepositoryStore
    incidents: IncidentStore
    activity: EventStore


def _at(timestamp: str) -> datetime:
    moment = datetime.fromisoformat(timestamp)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def stable_quarantined(
    history: FlakyHistory,
    tenant_id: str,
    repository: str,
    quarantined: list[QuarantinedTest],
    now: datetime,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> list[QuarantinedTest]:
    """The quarantined tests of one repository that are stable for the flake window (see the module)."""
    window = timedelta(days=window_days)
    rates = flake_rates(history, tenant_id, repository, now, window_days=window_days)
    failed_since = iso(now - window)
    last_failed: dict[str, dict[str, str]] = {}  # per workflow: when each test last failed
    stable: list[QuarantinedTest] = []
    for test in quarantined:
        if now - _at(test.in_effect_since or test.quarantined_at) < window:
            continue  # the window has not passed since the quarantine (its merge)
        stat = rates.get(test.test_id)
        if stat is None or stat.successes == 0 or stat.flaky_successes:
            continue  # no evidence, or still flaky
        if test.workflow:
            if test.workflow not in last_failed:
                tracked = history.tracked(tenant_id, repository, test.workflow)
                last_failed[test.workflow] = {t.test_id: t.last_failed_at for t in tracked}
            if last_failed[test.workflow].get(test.test_id, "") >= failed_since:
                continue  # it failed within the window
        stable.append(test)
    return stable


def release_incident_id(repository: str, tests: list[QuarantinedTest], window_days: int) -> str:
    """The same repository, tests, quarantines and window give the same id (the sweep's idempotence)."""
    basis = "\n".join(
        [repository.lower(), str(window_days), *sorted(f"{t.test_id}\t{t.quarantined_at}" for t in tests)]
    )
    return f"flaky-stable-{hashlib.sha256(basis.encode()).hexdigest()[:24]}"


def release_incident(
    tenant_id: str, repository: str, tests: list[QuarantinedTest], window_days: int, now: datetime
) -> Incident:
    test_ids = sorted({t.test_id for t in tests})
    installation = next((t.installation_id for t in tests if t.installation_id), None)
    return Incident(
        id=release_incident_id(repository, tests, window_days),
        tenant_id=tenant_id,
        repository=repository,
        type=IncidentType.FLAKY_TEST_STABLE,
        severity=Severity.LOW,
        description=f"{len(test_ids)} quarantined test(s) stable for {window_days} days: release the quarantine",
        detected_at=iso(now),
        metadata={
            "tests": test_ids,
            "window_days": window_days,
            "quarantine_incidents": sorted({t.incident_id for t in tests}),
            "installation_id": installation,
        },
        timeline=[TimelineEntry.now(TimelineEvent.ISSUE_DETECTED, "scheduled sweep of quarantined tests")],
    )


def _settle(
    quarantines: QuarantineStore,
    tenant_id: str,
    repository: str,
    number: int,
    tests: list[QuarantinedTest],
    answer: QuarantinePullRequest,
) -> list[QuarantinedTest]:
    """Apply what GitHub says of one quarantine pull request to its proposed tests; those now merged."""
    test_ids = [t.test_id for t in tests]
    where = {"repository": repository, "pull_request": number, "tests": test_ids}
    if answer.merged_at:
        quarantines.merge(tenant_id, repository, test_ids, number, answer.merged_at)
        logger.info("quarantine pull request merged: the tests are quarantined", extra=where)
        return [t.model_copy(update={"status": QuarantineStatus.MERGED, "merged_at": answer.merged_at}) for t in tests]
    if answer.state == "closed":
        quarantines.forget(tenant_id, repository, test_ids, number)
        logger.info("quarantine pull request closed unmerged: the quarantine is dropped", extra=where)
    return []  # still open: it waits


def merged_quarantines(
    quarantines: QuarantineStore,
    pull_requests: PullRequestLookup | None,
    tenant_id: str,
    repository: str,
    recorded: list[QuarantinedTest],
) -> list[QuarantinedTest]:
    """The repository's quarantines in effect, after settling the proposed ones with GitHub (see the module)."""
    merged = [t for t in recorded if t.status is QuarantineStatus.MERGED]
    proposed: dict[int, list[QuarantinedTest]] = {}
    for test in recorded:
        if test.status is QuarantineStatus.PROPOSED and test.pull_request is not None:
            proposed.setdefault(test.pull_request, []).append(test)
    for number, tests in sorted(proposed.items()):
        installation = next((t.installation_id for t in tests if t.installation_id), None)
        answer = pull_requests(repository, installation, number) if pull_requests else None
        if answer is not None:  # else GitHub was not asked or did not answer: the quarantine waits
            merged += _settle(quarantines, tenant_id, repository, number, tests, answer)
    return merged


def follow_pull_request(
    quarantines: QuarantineStore, tenant_id: str, repository: str, number: int, answer: QuarantinePullRequest
) -> int:
    """The `pull_request` webhook said a bot pull request changed: settle the quarantines it proposed.

    The sweep would settle them within the hour anyway; this only makes it immediate. How many
    records it settled (0 for a pull request that proposed no quarantine, or one still open).
    """
    tests = [
        t
        for t in quarantines.of_tenant(tenant_id)
        if t.pull_request == number
        and t.status is QuarantineStatus.PROPOSED
        and t.repository.lower() == repository.lower()
    ]
    if not tests or answer.state != "closed":
        return 0
    _settle(quarantines, tenant_id, tests[0].repository, number, tests, answer)
    return len(tests)


def sweep_stable_quarantines(
    stores: QuarantineSweepStores,
    queue: MessageQueue,
    tenant_ids: list[str],
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    now: datetime | None = None,
    pull_requests: PullRequestLookup | None = None,
) -> list[str]:
    """Open one release incident per active repository with stable quarantined tests; the ids opened.

    Only merged quarantines count; `pull_requests` settles the proposed ones first (None: they wait).
    """
    now = now or utc_now()
    opened: list[str] = []
    for tenant_id in tenant_ids:
        by_repository: dict[str, list[QuarantinedTest]] = {}
        for test in stores.quarantines.of_tenant(tenant_id):
            by_repository.setdefault(test.repository, []).append(test)
        for repository, quarantined in sorted(by_repository.items()):
            enrolled = stores.repositories.get(tenant_id, repository)
            if enrolled is None or enrolled.status is not RepositoryStatus.ACTIVE:
                continue  # paused (the circuit breaker, a person) or no longer watched: no new work
            in_effect = merged_quarantines(stores.quarantines, pull_requests, tenant_id, repository, quarantined)
            stable = stable_quarantined(
                stores.flaky_history, tenant_id, repository, in_effect, now, window_days=window_days
            )
            if not stable:
                continue
            incident = release_incident(tenant_id, repository, stable, window_days, now)
            if stores.incidents.get(tenant_id, incident.id) is not None:
                continue  # an earlier sweep opened it (a pending request is the pending-healing sweep's)
            _, is_new = raise_incident(stores.incidents, stores.activity, queue, incident, new_occurrence=False)
            if is_new:
                logger.info("quarantined tests stable: release requested", extra={"incident_id": incident.id})
                opened.append(incident.id)
    return opened
