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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds, iso
from mlops_bot.storage import keys

DEFAULT_WINDOW_DAYS = 14
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out"})
PASSED_CONCLUSIONS = frozenset({"success"})
# More failed tests than this in one run is an environment problem (a missing package fails them
# all), not many independently flaky tests: only the jobs are tracked then.
MASS_FAILURE_TESTS = 25

Kind = Literal["test", "job"]


class FlakeStat(BaseModel):
    """One test's (or job's) flakiness over the window."""

    model_config = ConfigDict(frozen=True)

    test_id: str
    kind: Kind
    flaky_successes: int
    successes: int
    flake_rate: float
    last_flaky_at: datetime | None = None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(moment: datetime) -> str:
    return _utc(moment).date().isoformat()


def _failed_names(failed_tests: Sequence[str], failed_jobs: Sequence[str]) -> dict[str, Kind]:
    names: dict[str, Kind] = {}
    tests = [t for t in dict.fromkeys(failed_tests) if t]
    if len(tests) <= MASS_FAILURE_TESTS:
        names.update((t, "test") for t in tests)
    names.update((j, "job") for j in dict.fromkeys(failed_jobs) if j and j not in names)
    return names


def record_run(
    table: StateTable,
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

    Only `failure`/`timed_out` and `success` conclusions teach anything (a cancelled run says
    nothing about its tests). `at` is when the attempt completed; it orders failure and success.
    """
    if conclusion not in FAILED_CONCLUSIONS | PASSED_CONCLUSIONS:
        return []
    if not head_sha or not workflow or run_attempt < 1 or window_days < 1:
        raise ValueError("a run needs its head_sha, workflow, a run_attempt >= 1 and a window of >= 1 day")
    at = _utc(at)
    expires_at = epoch_seconds(at + timedelta(days=window_days + 1))
    seen = keys.commit_run_seen_key(tenant_id, repository, head_sha, workflow, run_id, run_attempt)
    if not table.put_new({**seen, "conclusion": conclusion, "expires_at": expires_at}):
        return []  # a redelivered event: this attempt is already counted
    run = _CommitRun(table, tenant_id, repository, head_sha, workflow, window_days, expires_at)
    try:
        if conclusion in FAILED_CONCLUSIONS:
            return run.failed(run_id, run_attempt, _failed_names(failed_tests, failed_jobs), at)
        return run.passed(run_id, run_attempt, at)
    except Exception:
        table.delete(seen)  # let the redelivery record it instead of losing it
        raise


class _CommitRun:
    """The outcomes of one workflow on one commit, and the history they update."""

    def __init__(
        self,
        table: StateTable,
        tenant_id: str,
        repository: str,
        head_sha: str,
        workflow: str,
        window_days: int,
        expires_at: int,
    ) -> None:
        self.table = table
        self.window_days = window_days
        self.tenant_id = tenant_id
        self.repository = repository
        self.head_sha = head_sha
        self.workflow = workflow
        self.expires_at = expires_at
        self.key = keys.commit_run_key(tenant_id, repository, head_sha, workflow)

    def _header(self) -> dict[str, Any]:
        return {
            "repository": self.repository.lower(),
            "head_sha": self.head_sha,
            "workflow": self.workflow,
            "expires_at": self.expires_at,
        }

    def failed(self, run_id: int, run_attempt: int, names: Mapping[str, Kind], at: datetime) -> list[str]:
        failure = {
            "at": iso(at),
            "run_id": run_id,
            "run_attempt": run_attempt,
            "tests": [n for n, k in names.items() if k == "test"],
            "jobs": [n for n, k in names.items() if k == "job"],
        }
        record = self.table.set_fields(self.key, self._header(), append={"failures": [failure]}) or {}
        for name, kind in names.items():
            self.table.put(
                {
                    **keys.flaky_tracked_key(self.tenant_id, self.repository, self.workflow, name),
                    "test_id": name,
                    "kind": kind,
                    "workflow": self.workflow,
                    "last_failed_at": iso(at),
                    "expires_at": self.expires_at,
                }
            )
        later = [s for s in record.get("successes", []) if s["at"] > failure["at"]]
        if not later:
            return []
        # Delivered after the success that followed it: credit that success now.
        success = min(later, key=lambda s: str(s["at"]))
        counted = set(success.get("counted", []))
        return self._credit(names, datetime.fromisoformat(success["at"]), already_counted=counted)

    def passed(self, run_id: int, run_attempt: int, at: datetime) -> list[str]:
        record = self.table.get(self.key) or {}
        flipped: dict[str, Kind] = {}
        for failure in record.get("failures", []):
            if failure["at"] < iso(at):
                flipped.update((t, "test") for t in failure.get("tests", []))
                flipped.update((j, "job") for j in failure.get("jobs", []) if j not in flipped)
        tracked = _tracked(self.table, self.tenant_id, self.repository, self.workflow, at, self.window_days)
        counted = {**tracked, **flipped}
        success = {"at": iso(at), "run_id": run_id, "run_attempt": run_attempt, "counted": sorted(counted)}
        self.table.set_fields(self.key, self._header(), append={"successes": [success]})
        for name, kind in counted.items():
            if name not in flipped:
                self._bump(name, kind, at, successes=1)
        return self._credit(flipped, at, already_counted=set())

    def _credit(self, names: Mapping[str, Kind], success_at: datetime, already_counted: set[str]) -> list[str]:
        """Count the success of each name that failed earlier on this commit; the first time per
        commit it is also a flaky success."""
        newly: list[str] = []
        for name, kind in names.items():
            credit = keys.commit_flaky_credit_key(self.tenant_id, self.repository, self.head_sha, self.workflow, name)
            first = self.table.put_new({**credit, "at": iso(success_at), "expires_at": self.expires_at})
            successes = 0 if name in already_counted else 1
            if first:
                newly.append(name)
                self._bump(name, kind, success_at, successes=successes, flaky=1)
            elif successes:
                self._bump(name, kind, success_at, successes=successes)
        return newly

    def _bump(self, name: str, kind: Kind, at: datetime, *, successes: int, flaky: int = 0) -> None:
        day = _day(at)
        day_start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        fields: dict[str, Any] = {
            "test_id": name,
            "kind": kind,
            "day": day,
            "expires_at": epoch_seconds(day_start + timedelta(days=self.window_days + 1)),
        }
        increments = {"successes": successes}
        if flaky:
            fields["last_flaky_at"] = iso(at)
            increments["flaky_successes"] = flaky
        self.table.set_fields(
            keys.flaky_day_key(self.tenant_id, self.repository, name, day), fields, increments=increments
        )


def _tracked(
    table: StateTable, tenant_id: str, repository: str, workflow: str, now: datetime, window_days: int
) -> dict[str, Kind]:
    """Tests and jobs seen failing in this workflow within the window: a success of the workflow is
    a success of each of them (tests that never failed have nothing to learn)."""
    since = iso(now - timedelta(days=window_days))
    return {
        item["test_id"]: item["kind"]
        for item in table.query(keys.flaky_history_pk(tenant_id, repository), keys.flaky_tracked_prefix(workflow))
        if item.get("workflow") == workflow and item.get("last_failed_at", "") >= since
    }


def flake_rates(
    table: StateTable, tenant_id: str, repository: str, now: datetime, *, window_days: int = DEFAULT_WINDOW_DAYS
) -> dict[str, FlakeStat]:
    """Per test/job over the last `window_days` UTC days up to `now` (today included)."""
    if window_days < 1:
        raise ValueError("the window is at least one day")
    last_day = _day(now)
    first_day = (_utc(now).date() - timedelta(days=window_days - 1)).isoformat()
    totals: dict[str, dict[str, Any]] = {}
    for item in table.query(keys.flaky_history_pk(tenant_id, repository), "TEST#"):
        if not first_day <= str(item.get("day", "")) <= last_day:
            continue
        total = totals.setdefault(
            item["test_id"], {"kind": item.get("kind", "test"), "flaky": 0, "successes": 0, "last": None}
        )
        total["flaky"] += int(item.get("flaky_successes", 0))
        total["successes"] += int(item.get("successes", 0))
        if item.get("last_flaky_at") and (total["last"] is None or item["last_flaky_at"] > total["last"]):
            total["last"] = item["last_flaky_at"]
    return {
        test_id: FlakeStat(
            test_id=test_id,
            kind=total["kind"],
            flaky_successes=total["flaky"],
            successes=total["successes"],
            flake_rate=total["flaky"] / total["successes"] if total["successes"] else 0.0,
            last_flaky_at=datetime.fromisoformat(total["last"]) if total["last"] else None,
        )
        for test_id, total in totals.items()
    }


def is_known_flaky(
    table: StateTable,
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
    stats = flake_rates(table, tenant_id, repository, now, window_days=window_days)
    return all(
        (stat := stats.get(name)) is not None and stat.flaky_successes >= min_flaky and stat.flake_rate >= min_rate
        for name in names
    )
