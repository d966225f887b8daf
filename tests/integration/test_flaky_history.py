"""Flaky-test history against moto's DynamoDB: re-runs that pass mark what failed as flaky."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds
from mlops_bot.detection.flaky import (
    MASS_FAILURE_TESTS,
    flake_rates,
    is_known_flaky,
    record_run,
)
from mlops_bot.storage import keys
from mlops_bot.stores.flaky_history import DynamoFlakyHistory
from tests.support.aws import MockState

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEST = "tests/test_training.py::test_early_stopping[lightgbm]"
JOB = "pytest (ubuntu-latest, 3.11)"


@pytest.fixture
def table(aws: MockState) -> StateTable:
    return StateTable(aws.table_name)


def run(
    table: StateTable,
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
        DynamoFlakyHistory(table),
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


def flake_then_pass(table: StateTable, sha: str, at: datetime, run_id: int, **where: Any) -> list[str]:
    run(table, conclusion="failure", sha=sha, run_id=run_id, at=at, tests=[TEST], jobs=[JOB], **where)
    return run(table, conclusion="success", sha=sha, run_id=run_id, attempt=2, at=at + timedelta(minutes=20), **where)


def test_a_rerun_that_passes_on_the_same_commit_marks_the_failed_test_and_job_flaky(table: StateTable) -> None:
    assert run(table, conclusion="failure", tests=[TEST], jobs=[JOB]) == []
    newly = run(table, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=20))
    assert newly == [TEST, JOB]
    stats = flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY + timedelta(hours=1))
    assert stats[TEST].flaky_successes == 1
    assert stats[TEST].successes == 1
    assert stats[TEST].flake_rate == 1.0
    assert stats[TEST].kind == "test" and stats[JOB].kind == "job"
    assert stats[TEST].last_flaky_at == MONDAY + timedelta(minutes=20)


def test_pass_then_pass_marks_nothing(table: StateTable) -> None:
    assert run(table, conclusion="success") == []
    assert run(table, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=5)) == []
    assert flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY) == {}


def test_failure_on_one_commit_and_success_on_another_is_not_flaky(table: StateTable) -> None:
    run(table, conclusion="failure", sha="a" * 40, tests=[TEST])
    assert run(table, conclusion="success", sha="b" * 40, run_id=7002, at=MONDAY + timedelta(hours=1)) == []
    stat = flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY + timedelta(hours=2))[TEST]
    assert (stat.flaky_successes, stat.successes, stat.flake_rate) == (0, 1, 0.0)
    assert stat.last_flaky_at is None


def test_pass_then_fail_on_the_same_commit_is_not_flaky(table: StateTable) -> None:
    """What an upstream release breaking an unpinned dependency looks like: fix it, do not re-run it."""
    run(table, conclusion="success")
    assert run(table, conclusion="failure", attempt=2, at=MONDAY + timedelta(days=1), tests=[TEST]) == []
    assert not is_known_flaky(
        DynamoFlakyHistory(table), "default", "acme/churn-model", [TEST], MONDAY + timedelta(days=1)
    )


def test_a_failure_delivered_after_the_success_that_followed_it_still_counts(table: StateTable) -> None:
    passed_at = MONDAY + timedelta(minutes=20)
    assert run(table, conclusion="success", attempt=2, at=passed_at) == []
    assert run(table, conclusion="failure", attempt=1, at=MONDAY, tests=[TEST]) == [TEST]
    stat = flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY + timedelta(hours=1))[TEST]
    assert (stat.flaky_successes, stat.successes, stat.last_flaky_at) == (1, 1, passed_at)


def test_a_redelivered_attempt_is_counted_once(table: StateTable) -> None:
    run(table, conclusion="failure", tests=[TEST])
    run(table, conclusion="failure", tests=[TEST])
    assert run(table, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=20)) == [TEST]
    assert run(table, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=20)) == []
    stat = flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY + timedelta(hours=1))[TEST]
    assert (stat.flaky_successes, stat.successes) == (1, 1)


def test_every_test_of_every_failure_before_the_pass_is_flaky_once_per_commit(table: StateTable) -> None:
    other = "tests/test_serving.py::test_latency_budget"
    run(table, conclusion="failure", attempt=1, tests=[TEST])
    run(table, conclusion="failure", attempt=2, at=MONDAY + timedelta(minutes=10), tests=[other])
    assert run(table, conclusion="success", attempt=3, at=MONDAY + timedelta(minutes=20)) == [TEST, other]
    assert run(table, conclusion="success", attempt=4, at=MONDAY + timedelta(minutes=30)) == []
    stats = flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY + timedelta(hours=1))
    assert (stats[TEST].flaky_successes, stats[TEST].successes) == (1, 2)
    assert stats[other].flake_rate == 0.5


def test_flake_rate_is_flaky_successes_over_successes(table: StateTable) -> None:
    # Commit 1 flakes, commits 2 and 3 pass outright, commit 4 flakes: 2 flaky of 4 successes.
    flake_then_pass(table, "1" * 40, MONDAY, 1)
    run(table, conclusion="success", sha="2" * 40, run_id=2, at=MONDAY + timedelta(days=1))
    run(table, conclusion="success", sha="3" * 40, run_id=3, at=MONDAY + timedelta(days=2))
    flake_then_pass(table, "4" * 40, MONDAY + timedelta(days=3), 4)
    # Another workflow's successes say nothing about this workflow's tests.
    run(table, conclusion="success", sha="5" * 40, run_id=5, at=MONDAY + timedelta(days=3), workflow="Docs")
    stat = flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY + timedelta(days=4))[TEST]
    assert (stat.flaky_successes, stat.successes, stat.flake_rate) == (2, 4, 0.5)
    assert stat.last_flaky_at == MONDAY + timedelta(days=3, minutes=20)


def test_history_older_than_the_window_is_ignored(table: StateTable) -> None:
    flake_then_pass(table, "1" * 40, MONDAY - timedelta(days=20), 1)
    flake_then_pass(table, "2" * 40, MONDAY - timedelta(days=3), 2)
    run(table, conclusion="success", sha="3" * 40, run_id=3, at=MONDAY - timedelta(days=1))
    recent = flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY)[TEST]
    assert (recent.flaky_successes, recent.successes) == (1, 2)
    wider = flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY, window_days=30)[TEST]
    assert (wider.flaky_successes, wider.successes) == (2, 3)
    assert flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY + timedelta(days=14)) == {}


def test_day_buckets_carry_a_ttl_so_old_history_ages_out(table: StateTable) -> None:
    flake_then_pass(table, "1" * 40, MONDAY, 1, window_days=7)
    bucket = table.get(keys.flaky_day_key("default", "acme/churn-model", TEST, "2026-11-23"))
    assert bucket is not None
    assert bucket["expires_at"] == epoch_seconds(datetime(2026, 12, 1, tzinfo=UTC))
    commit = table.get(keys.commit_run_key("default", "acme/churn-model", "1" * 40, "CI"))
    assert commit is not None and commit["expires_at"] > epoch_seconds(MONDAY)
    assert commit["failures"][0]["tests"] == [TEST]


@pytest.mark.parametrize(
    ("min_rate", "min_flaky", "expected"),
    [(0.05, 1, True), (0.5, 1, True), (0.51, 1, False), (0.05, 2, True), (0.05, 3, False)],
)
def test_is_known_flaky_thresholds(table: StateTable, min_rate: float, min_flaky: int, expected: bool) -> None:
    flake_then_pass(table, "1" * 40, MONDAY, 1)
    run(table, conclusion="success", sha="2" * 40, run_id=2, at=MONDAY + timedelta(days=1))
    flake_then_pass(table, "3" * 40, MONDAY + timedelta(days=2), 3)
    run(table, conclusion="success", sha="4" * 40, run_id=4, at=MONDAY + timedelta(days=3))
    now = MONDAY + timedelta(days=4)  # 2 flaky of 4 successes
    assert (
        is_known_flaky(DynamoFlakyHistory(table), "default", "acme/churn-model", [TEST], now, min_rate, min_flaky)
        is expected
    )


def test_is_known_flaky_needs_history_for_every_failed_test(table: StateTable) -> None:
    flake_then_pass(table, "1" * 40, MONDAY, 1)
    now = MONDAY + timedelta(hours=1)
    assert is_known_flaky(DynamoFlakyHistory(table), "default", "acme/churn-model", [TEST, JOB], now)
    assert not is_known_flaky(
        DynamoFlakyHistory(table), "default", "acme/churn-model", [TEST, "tests/test_new.py::test_real_bug"], now
    )
    assert not is_known_flaky(DynamoFlakyHistory(table), "default", "acme/churn-model", [], now)
    assert not is_known_flaky(
        DynamoFlakyHistory(table), "default", "acme/churn-model", [TEST], MONDAY + timedelta(days=15)
    )


def test_repositories_and_tenants_do_not_share_history(table: StateTable) -> None:
    flake_then_pass(table, "1" * 40, MONDAY, 1, repository="Acme/Churn-Model", tenant="default")
    # The same commit and test names elsewhere: a pass there does not pair with the failure here.
    assert run(table, conclusion="success", attempt=2, sha="1" * 40, repository="acme/other") == []
    assert run(table, conclusion="success", attempt=2, sha="1" * 40, tenant="t2") == []
    now = MONDAY + timedelta(hours=1)
    assert TEST in flake_rates(
        DynamoFlakyHistory(table), "default", "acme/churn-model", now
    )  # names are case-insensitive
    assert flake_rates(DynamoFlakyHistory(table), "default", "acme/other", now) == {}
    assert flake_rates(DynamoFlakyHistory(table), "t2", "acme/churn-model", now) == {}
    assert not is_known_flaky(DynamoFlakyHistory(table), "t2", "acme/churn-model", [TEST], now)
    assert is_known_flaky(DynamoFlakyHistory(table), "default", "acme/churn-model", [TEST], now)


def test_every_item_written_lives_under_its_tenant(table: StateTable, aws: MockState) -> None:
    flake_then_pass(table, "1" * 40, MONDAY, 1, tenant="t1")
    items = boto3.resource("dynamodb").Table(aws.table_name).scan()["Items"]
    assert items
    assert all(str(item["pk"]).startswith(keys.tenant_pk("t1") + "#REPO#acme/churn-model#") for item in items)


def test_a_mass_failure_tracks_the_jobs_not_hundreds_of_tests(table: StateTable) -> None:
    tests = [f"tests/test_import.py::test_{i}" for i in range(MASS_FAILURE_TESTS + 1)]
    run(table, conclusion="failure", tests=tests, jobs=[JOB])
    assert run(table, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=5)) == [JOB]


def test_a_long_parametrised_test_id_is_stored(table: StateTable) -> None:
    long_id = "tests/test_grid.py::test_search[" + "-".join(f"param{i}" for i in range(300)) + "]"
    run(table, conclusion="failure", tests=[long_id])
    assert run(table, conclusion="success", attempt=2, at=MONDAY + timedelta(minutes=5)) == [long_id]
    assert (
        flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY + timedelta(hours=1))[
            long_id
        ].flake_rate
        == 1.0
    )


def test_cancelled_runs_teach_nothing(table: StateTable) -> None:
    run(table, conclusion="failure", tests=[TEST])
    assert run(table, conclusion="cancelled", attempt=2, at=MONDAY + timedelta(minutes=5)) == []
    assert flake_rates(DynamoFlakyHistory(table), "default", "acme/churn-model", MONDAY + timedelta(hours=1)) == {}
