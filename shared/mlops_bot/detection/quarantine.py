"""Releasing quarantined tests: which are stable again, and the incident that asks for their release.

A test the bot quarantined (`stores.quarantines`, written when the quarantine pull request was
opened) is *stable* when the flake window has passed since the quarantine and, over the window,
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mlops_bot.clock import iso, utc_now
from mlops_bot.detection.flaky import DEFAULT_WINDOW_DAYS, flake_rates
from mlops_bot.detection.incidents import raise_incident
from mlops_bot.messages import MessageQueue
from mlops_bot.stores.events import EventStore
from mlops_bot.stores.flaky_history import FlakyHistory
from mlops_bot.stores.incidents import Incident, IncidentStore, IncidentType, Severity, TimelineEntry, TimelineEvent
from mlops_bot.stores.quarantines import QuarantinedTest, QuarantineStore
from mlops_bot.stores.repositories import RepositoryStatus, RepositoryStore

logger = logging.getLogger(__name__)


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
        if now - _at(test.quarantined_at) < window:
            continue  # the window has not passed since the quarantine
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


def sweep_stable_quarantines(
    stores: QuarantineSweepStores,
    queue: MessageQueue,
    tenant_ids: list[str],
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    now: datetime | None = None,
) -> list[str]:
    """Open one release incident per active repository with stable quarantined tests; the ids opened."""
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
            stable = stable_quarantined(
                stores.flaky_history, tenant_id, repository, quarantined, now, window_days=window_days
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
