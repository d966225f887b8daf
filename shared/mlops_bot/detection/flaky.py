"""Flaky tests and jobs, learned from what CI did on the same commit.

A test is flaky when it failed and then passed with the same inputs (Nx's definition): the same
`head_sha` and workflow, a failed run followed by a successful one, usually a re-run
(`run_attempt` > 1). The opposite order (pass, then fail on the same commit) is *not* counted: it is
what an upstream release breaking a pinned-less dependency looks like, and the bot must fix that
rather than re-run it.

Per repository and test (or job) the history keeps, per UTC day, `successes` (successful runs of a
workflow in which the test had been seen failing before) and `flaky_successes` (successes that
followed a failure of that test on the same commit; at most one per commit). The flake rate is
flaky_successes / successes over the last `window_days` days only: old buckets are ignored when
reading and removed by DynamoDB's TTL (`expires_at`), so a test fixed a month ago stops being
"flaky" by itself. The healer asks `is_known_flaky` to override the log category with `flaky_test`.

Events arrive through SQS, so twice or out of order: every run attempt is counted once (a `SEEN`
marker written first, removed again if recording fails so the redelivery retries), and a failure
that arrives after the success that followed it still credits the flake.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from mlops_bot.clock import epoch_seconds, iso
from mlops_bot.messages import PASSED_CONCLUSIONS, TEST_FAILED_CONCLUSIONS
from mlops_bot.stores.flaky_history import (
    MAX_TEST_ID,
    CommitWorkflow,
    FlakyDay,
    FlakyHistory,
    FlakyKind,
    RunFailure,
    RunSuccess,
    TrackedTest,
)

DEFAULT_WINDOW_DAYS = 14
# More failed tests than this in one run is an environment problem (a missing package fails them
# all), not many independently flaky tests: only the jobs are tracked then.
MASS_FAILURE_TESTS = 25


class FlakeStat(BaseModel):
    """One test's (or job's) flakiness over the window."""

    model_config = ConfigDict(frozen=True)

    test_id: str
    kind: FlakyKind
    flaky_successes: int
    successes: int
    flake_rate: float
    last_flaky_at: datetime | None = None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(moment: datetime) -> str:
    return _utc(moment).date().isoformat()


def _failed_names(failed_tests: Sequence[str], failed_jobs: Sequence[str]) -> dict[str, FlakyKind]:
    # A name longer than the history keeps is left out rather than failing the whole run every
    # time it is redelivered.
    names: dict[str, FlakyKind] = {}
    tests = [t for t in dict.fromkeys(failed_tests) if t and len(t) <= MAX_TEST_ID]
    if len(tests) <= MASS_FAILURE_TESTS:
        names.update((t, FlakyKind.TEST) for t in tests)
    names.update(
        (j, FlakyKind.JOB) for j in dict.fromkeys(failed_jobs) if j and len(j) <= MAX_TEST_ID and j not in names
    )
    return names


def record_run(
    history: FlakyHistory,
    tenant_id: str,
    repository: str,
    *,
    workflow: str,
    run_id: int,
    run_attempt: int,
    head_sha: str,
    conclusion: str,
    failed_tests: list[str],
    failed_jobs: list[str],
    at: datetime,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> list[str]:
    """Record one completed run attempt; return the tests/jobs it newly marks flaky on this commit.

    Only `failure`/`timed_out` (`TEST_FAILED_CONCLUSIONS`) and `success` conclusions teach
    anything (a cancelled run, or one that failed to start, says nothing about its tests). `at` is
    when the attempt completed; it orders failure and success.
    """
    if conclusion not in TEST_FAILED_CONCLUSIONS | PASSED_CONCLUSIONS:
        return []
    if not head_sha or not workflow or run_attempt < 1 or window_days < 1:
        raise ValueError("a run needs its head_sha, workflow, a run_attempt >= 1 and a window of >= 1 day")
    at = _utc(at)
    expires_at = epoch_seconds(at + timedelta(days=window_days + 1))
    commit = CommitWorkflow(tenant_id=tenant_id, repository=repository, head_sha=head_sha, workflow=workflow)
    if not history.mark_seen(commit, run_id, run_attempt, conclusion, expires_at):
        return []  # a redelivered event: this attempt is already counted
    run = _CommitRun(history, commit, window_days, expires_at)
    try:
        if conclusion in TEST_FAILED_CONCLUSIONS:
            return run.failed(run_id, run_attempt, _failed_names(failed_tests, failed_jobs), at)
        return run.passed(run_id, run_attempt, at)
    except Exception:
        history.forget_seen(commit, run_id, run_attempt)  # let the redelivery record it instead of losing it
        raise


class _CommitRun:
    """The outcomes of one workflow on one commit, and the history they update."""

    def __init__(self, history: FlakyHistory, commit: CommitWorkflow, window_days: int, expires_at: int) -> None:
        self.history = history
        self.commit = commit
        self.window_days = window_days
        self.expires_at = expires_at

    def failed(self, run_id: int, run_attempt: int, names: Mapping[str, FlakyKind], at: datetime) -> list[str]:
        failure = RunFailure(
            at=iso(at),
            run_id=run_id,
            run_attempt=run_attempt,
            tests=[n for n, k in names.items() if k is FlakyKind.TEST],
            jobs=[n for n, k in names.items() if k is FlakyKind.JOB],
        )
        record = self.history.add_failure(self.commit, failure, self.expires_at)
        for name, kind in names.items():
            tracked = TrackedTest(test_id=name, kind=kind, workflow=self.commit.workflow, last_failed_at=iso(at))
            self.history.track(self.commit.tenant_id, self.commit.repository, tracked, self.expires_at)
        later = [s for s in (record.successes if record else []) if s.at > failure.at]
        if not later:
            return []
        # Delivered after the success that followed it: credit that success now.
        success = min(later, key=lambda s: s.at)
        return self._credit(names, datetime.fromisoformat(success.at), already_counted=set(success.counted))

    def passed(self, run_id: int, run_attempt: int, at: datetime) -> list[str]:
        record = self.history.commit_run(self.commit)
        flipped: dict[str, FlakyKind] = {}
        for failure in record.failures if record else []:
            if failure.at < iso(at):
                flipped.update((t, FlakyKind.TEST) for t in failure.tests)
                flipped.update((j, FlakyKind.JOB) for j in failure.jobs if j not in flipped)
        counted = {**self._tracked(at), **flipped}
        success = RunSuccess(at=iso(at), run_id=run_id, run_attempt=run_attempt, counted=sorted(counted))
        self.history.add_success(self.commit, success, self.expires_at)
        for name, kind in counted.items():
            if name not in flipped:
                self._bump(name, kind, at, successes=1)
        return self._credit(flipped, at, already_counted=set())

    def _tracked(self, now: datetime) -> dict[str, FlakyKind]:
        """Tests and jobs seen failing in this workflow within the window: a success of the workflow
        is a success of each of them (tests that never failed have nothing to learn)."""
        since = iso(now - timedelta(days=self.window_days))
        tracked = self.history.tracked(self.commit.tenant_id, self.commit.repository, self.commit.workflow)
        return {t.test_id: t.kind for t in tracked if t.last_failed_at >= since}

    def _credit(self, names: Mapping[str, FlakyKind], success_at: datetime, already_counted: set[str]) -> list[str]:
        """Count the success of each name that failed earlier on this commit; the first time per
        commit it is also a flaky success."""
        newly: list[str] = []
        for name, kind in names.items():
            first = self.history.credit(self.commit, name, iso(success_at), self.expires_at)
            successes = 0 if name in already_counted else 1
            if first:
                try:
                    self._bump(name, kind, success_at, successes=successes, flaky=1)
                except Exception:
                    # Uncounted: the redelivery (the run's SEEN marker is forgotten too) credits it.
                    self.history.withdraw_credit(self.commit, name)
                    raise
                newly.append(name)
            elif successes:
                self._bump(name, kind, success_at, successes=successes)
        return newly

    def _bump(self, name: str, kind: FlakyKind, at: datetime, *, successes: int, flaky: int = 0) -> None:
        day = _day(at)
        day_start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        counts = FlakyDay(
            test_id=name,
            kind=kind,
            day=day,
            successes=successes,
            flaky_successes=flaky,
            last_flaky_at=iso(at) if flaky else None,
        )
        expires_at = epoch_seconds(day_start + timedelta(days=self.window_days + 1))
        self.history.count_day(self.commit.tenant_id, self.commit.repository, counts, expires_at)


class _Totals:
    def __init__(self, kind: FlakyKind) -> None:
        self.kind = kind
        self.flaky = 0
        self.successes = 0
        self.last: str | None = None


def flake_rates(
    history: FlakyHistory,
    tenant_id: str,
    repository: str,
    now: datetime,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> dict[str, FlakeStat]:
    """Per test/job over the last `window_days` UTC days up to `now` (today included)."""
    if window_days < 1:
        raise ValueError("the window is at least one day")
    last_day = _day(now)
    first_day = (_utc(now).date() - timedelta(days=window_days - 1)).isoformat()
    totals: dict[str, _Totals] = {}
    for bucket in history.days(tenant_id, repository):
        if not first_day <= bucket.day <= last_day:
            continue
        total = totals.setdefault(bucket.test_id, _Totals(bucket.kind))
        total.flaky += bucket.flaky_successes
        total.successes += bucket.successes
        if bucket.last_flaky_at and (total.last is None or bucket.last_flaky_at > total.last):
            total.last = bucket.last_flaky_at
    return {
        test_id: FlakeStat(
            test_id=test_id,
            kind=total.kind,
            flaky_successes=total.flaky,
            successes=total.successes,
            flake_rate=total.flaky / total.successes if total.successes else 0.0,
            last_flaky_at=datetime.fromisoformat(total.last) if total.last else None,
        )
        for test_id, total in totals.items()
    }


def is_known_flaky(
    history: FlakyHistory,
    tenant_id: str,
    repository: str,
    tests_or_jobs: Iterable[str],
    now: datetime,
    min_rate: float = 0.05,
    min_flaky: int = 1,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> bool:
    """True when every failed test/job given has flaked at least `min_flaky` times, at a rate of at
    least `min_rate`, within the window. One failure without such history may be a real regression
    hiding among flaky tests, so it keeps the failure out of the `flaky_test` category."""
    names = [n for n in dict.fromkeys(tests_or_jobs) if n]
    if not names:
        return False
    stats = flake_rates(history, tenant_id, repository, now, window_days=window_days)
    return all(
        (stat := stats.get(name)) is not None and stat.flaky_successes >= min_flaky and stat.flake_rate >= min_rate
        for name in names
    )
