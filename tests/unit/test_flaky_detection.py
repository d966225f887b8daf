"""Flaky detection on the in-memory history: re-runs that pass on the same commit mark what failed as flaky.

The same behaviour on DynamoDB: tests/integration/test_flaky_history.py; the two histories keep one
contract: tests/integration/test_stores_flaky_history.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mlops_bot.detection.flaky import (
    MASS_FAILURE_TESTS,
    flake_rates,
    is_known_flaky,
    record_run,
)
from mlops_bot.stores.flaky_history import FlakyDay, FlakyHistory, InMemoryFlakyHistory

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEST = "tests/test_training.py::test_early_stopping[lightgbm]"
JOB = "pytest (ubuntu-latest, 3.11)"


@pytest.fixture
def history() -> InMemoryFlakyHistory:
    return InMemoryFlakyHistory()


def run(
    history: FlakyHistory,
    *,
    conclusion: str,
    sha: str = "9fceb02d0ae598e95dc970b74767f19372d61af8",
    attempt: int = 1,
    run_id: int = 7001,
    at: datetime = MONDAY,
    tests: Sequence[str] = (),
    jobs: Sequence[str] = (),
    repository: str = "acme/churn-model",
    tenant: str = "default",
    workflow: str = "CI",
    window_days: int = 14,
) -> list[str]:
    return record_run(
        history,
        tenant,
        repository,
        workflow=workflow,
        run_id=run_id,
        run_attempt=attempt,
        head_sha=sha,
        conclusion=conclusion,
        failed_tests=list(tests),
        failed_jobs=list(jobs),
        at=at,
        window_days=window_days,
    )


def flake_then_pass(history: FlakyHistory, sha: str, at: datetime, run_id: int, **where: Any) -> list[str]:
    run(history, conclusion="failure", sha=sha, run_id=run_id, at=at, tests=[TEST], jobs=[JOB], **where)
    return run(history, conclusion="success", sha=sha, run_id=run_id, attempt=2, at=at + timedelta(minutes=20), **where)


def test_a_rerun_that_passes_on_the_same_commit_marks_the_failed_test_and_job_flaky(history: FlakyHistory) -> None:
    assert run(history, conclusion="failure", tests=[TEST], jobs=[JOB]) == []
    newly = run(history, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=20))
    assert newly == [TEST, JOB]
    stats = flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(hours=1))
    assert stats[TEST].flaky_successes == 1
    assert stats[TEST].successes == 1
    assert stats[TEST].flake_rate == 1.0
    assert stats[TEST].kind == "test" and stats[JOB].kind == "job"
    assert stats[TEST].last_flaky_at == MONDAY + timedelta(minutes=20)


def test_pass_then_pass_marks_nothing(history: FlakyHistory) -> None:
    assert run(history, conclusion="success") == []
    assert run(history, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=5)) == []
    assert flake_rates(history, "default", "acme/churn-model", MONDAY) == {}


def test_failure_on_one_commit_and_success_on_another_is_not_flaky(history: FlakyHistory) -> None:
    run(history, conclusion="failure", sha="a" * 40, tests=[TEST])
    assert run(history, conclusion="success", sha="b" * 40, run_id=7002, at=MONDAY + timedelta(hours=1)) == []
    stat = flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(hours=2))[TEST]
    assert (stat.flaky_successes, stat.successes, stat.flake_rate) == (0, 1, 0.0)
    assert stat.last_flaky_at is None


def test_pass_then_fail_on_the_same_commit_is_not_flaky(history: FlakyHistory) -> None:
    """What an upstream release breaking an unpinned dependency looks like: fix it, do not re-run it."""
    run(history, conclusion="success")
    assert run(history, conclusion="failure", attempt=2, at=MONDAY + timedelta(days=1), tests=[TEST]) == []
    assert not is_known_flaky(history, "default", "acme/churn-model", [TEST], MONDAY + timedelta(days=1))


def test_a_failure_delivered_after_the_success_that_followed_it_still_counts(history: FlakyHistory) -> None:
    passed_at = MONDAY + timedelta(minutes=20)
    assert run(history, conclusion="success", attempt=2, at=passed_at) == []
    assert run(history, conclusion="failure", attempt=1, at=MONDAY, tests=[TEST]) == [TEST]
    stat = flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(hours=1))[TEST]
    assert (stat.flaky_successes, stat.successes, stat.last_flaky_at) == (1, 1, passed_at)


def test_a_redelivered_attempt_is_counted_once(history: FlakyHistory) -> None:
    run(history, conclusion="failure", tests=[TEST])
    run(history, conclusion="failure", tests=[TEST])
    assert run(history, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=20)) == [TEST]
    assert run(history, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=20)) == []
    stat = flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(hours=1))[TEST]
    assert (stat.flaky_successes, stat.successes) == (1, 1)


def test_every_test_of_every_failure_before_the_pass_is_flaky_once_per_commit(history: FlakyHistory) -> None:
    other = "tests/test_serving.py::test_latency_budget"
    run(history, conclusion="failure", attempt=1, tests=[TEST])
    run(history, conclusion="failure", attempt=2, at=MONDAY + timedelta(minutes=10), tests=[other])
    assert run(history, conclusion="success", attempt=3, at=MONDAY + timedelta(minutes=20)) == [TEST, other]
    assert run(history, conclusion="success", attempt=4, at=MONDAY + timedelta(minutes=30)) == []
    stats = flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(hours=1))
    assert (stats[TEST].flaky_successes, stats[TEST].successes) == (1, 2)
    assert stats[other].flake_rate == 0.5


def test_flake_rate_is_flaky_successes_over_successes(history: FlakyHistory) -> None:
    # Commit 1 flakes, commits 2 and 3 pass outright, commit 4 flakes: 2 flaky of 4 successes.
    flake_then_pass(history, "1" * 40, MONDAY, 1)
    run(history, conclusion="success", sha="2" * 40, run_id=2, at=MONDAY + timedelta(days=1))
    run(history, conclusion="success", sha="3" * 40, run_id=3, at=MONDAY + timedelta(days=2))
    flake_then_pass(history, "4" * 40, MONDAY + timedelta(days=3), 4)
    # Another workflow's successes say nothing about this workflow's tests.
    run(history, conclusion="success", sha="5" * 40, run_id=5, at=MONDAY + timedelta(days=3), workflow="Docs")
    stat = flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(days=4))[TEST]
    assert (stat.flaky_successes, stat.successes, stat.flake_rate) == (2, 4, 0.5)
    assert stat.last_flaky_at == MONDAY + timedelta(days=3, minutes=20)


def test_history_older_than_the_window_is_ignored(history: FlakyHistory) -> None:
    flake_then_pass(history, "1" * 40, MONDAY - timedelta(days=20), 1)
    flake_then_pass(history, "2" * 40, MONDAY - timedelta(days=3), 2)
    run(history, conclusion="success", sha="3" * 40, run_id=3, at=MONDAY - timedelta(days=1))
    recent = flake_rates(history, "default", "acme/churn-model", MONDAY)[TEST]
    assert (recent.flaky_successes, recent.successes) == (1, 2)
    wider = flake_rates(history, "default", "acme/churn-model", MONDAY, window_days=30)[TEST]
    assert (wider.flaky_successes, wider.successes) == (2, 3)
    assert flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(days=14)) == {}


@pytest.mark.parametrize(
    ("min_rate", "min_flaky", "expected"),
    [(0.05, 1, True), (0.5, 1, True), (0.51, 1, False), (0.05, 2, True), (0.05, 3, False)],
)
def test_is_known_flaky_thresholds(history: FlakyHistory, min_rate: float, min_flaky: int, expected: bool) -> None:
    flake_then_pass(history, "1" * 40, MONDAY, 1)
    run(history, conclusion="success", sha="2" * 40, run_id=2, at=MONDAY + timedelta(days=1))
    flake_then_pass(history, "3" * 40, MONDAY + timedelta(days=2), 3)
    run(history, conclusion="success", sha="4" * 40, run_id=4, at=MONDAY + timedelta(days=3))
    now = MONDAY + timedelta(days=4)  # 2 flaky of 4 successes
    assert is_known_flaky(history, "default", "acme/churn-model", [TEST], now, min_rate, min_flaky) is expected


def test_is_known_flaky_needs_history_for_every_failed_test(history: FlakyHistory) -> None:
    flake_then_pass(history, "1" * 40, MONDAY, 1)
    now = MONDAY + timedelta(hours=1)
    assert is_known_flaky(history, "default", "acme/churn-model", [TEST, JOB], now)
    assert not is_known_flaky(history, "default", "acme/churn-model", [TEST, "tests/test_new.py::test_real_bug"], now)
    assert not is_known_flaky(history, "default", "acme/churn-model", [], now)
    assert not is_known_flaky(history, "default", "acme/churn-model", [TEST], MONDAY + timedelta(days=15))


def test_repositories_and_tenants_do_not_share_history(history: FlakyHistory) -> None:
    flake_then_pass(history, "1" * 40, MONDAY, 1, repository="Acme/Churn-Model", tenant="default")
    # The same commit and test names elsewhere: a pass there does not pair with the failure here.
    assert run(history, conclusion="success", attempt=2, sha="1" * 40, repository="acme/other") == []
    assert run(history, conclusion="success", attempt=2, sha="1" * 40, tenant="t2") == []
    now = MONDAY + timedelta(hours=1)
    assert TEST in flake_rates(history, "default", "acme/churn-model", now)  # names are case-insensitive
    assert flake_rates(history, "default", "acme/other", now) == {}
    assert flake_rates(history, "t2", "acme/churn-model", now) == {}
    assert not is_known_flaky(history, "t2", "acme/churn-model", [TEST], now)
    assert is_known_flaky(history, "default", "acme/churn-model", [TEST], now)


def test_a_mass_failure_tracks_the_jobs_not_hundreds_of_tests(history: FlakyHistory) -> None:
    tests = [f"tests/test_import.py::test_{i}" for i in range(MASS_FAILURE_TESTS + 1)]
    run(history, conclusion="failure", tests=tests, jobs=[JOB])
    assert run(history, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=5)) == [JOB]


def test_a_long_parametrised_test_id_is_stored(history: FlakyHistory) -> None:
    long_id = "tests/test_grid.py::test_search[" + "-".join(f"param{i}" for i in range(300)) + "]"
    run(history, conclusion="failure", tests=[long_id])
    assert run(history, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=5)) == [long_id]
    assert flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(hours=1))[long_id].flake_rate == 1.0


def test_cancelled_runs_teach_nothing(history: FlakyHistory) -> None:
    run(history, conclusion="failure", tests=[TEST])
    assert run(history, conclusion="cancelled", attempt=2, at=MONDAY + timedelta(minutes=5)) == []
    assert flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(hours=1)) == {}


def test_a_run_that_failed_to_start_teaches_nothing(history: FlakyHistory) -> None:
    """A `startup_failure` opens an incident but ran no test: it neither fails nor flakes a test."""
    assert run(history, conclusion="startup_failure", tests=[TEST], jobs=[JOB]) == []
    assert run(history, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=5)) == []
    assert flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(hours=1)) == {}


class FailingOnce(InMemoryFlakyHistory):
    """A history whose first attempt to count a day fails (a throttled write), then recovers."""

    def __init__(self) -> None:
        super().__init__()
        self.failures_left = 1

    def count_day(self, tenant_id: str, repository: str, day: FlakyDay, expires_at: int) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("throttled")
        super().count_day(tenant_id, repository, day, expires_at)


def test_an_attempt_whose_recording_failed_is_recorded_by_the_redelivery() -> None:
    history = FailingOnce()
    run(history, conclusion="failure", tests=[TEST])
    with pytest.raises(ConnectionError):
        run(history, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=20))
    assert run(history, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=20)) == [TEST]
    stat = flake_rates(history, "default", "acme/churn-model", MONDAY + timedelta(hours=1))[TEST]
    assert (stat.flaky_successes, stat.successes) == (1, 1)
