"""Failure patterns: signatures from real-looking evidence lines, clustering and recurrence forecasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from mlops_bot.analytics.patterns import (
    Recurrence,
    find_patterns,
    normalise,
    parse_period,
    report,
    signature_of,
)

NOW = datetime(2025, 8, 27, 21, 0, tzinfo=UTC)


def incident(
    at: datetime,
    line: str | None,
    *,
    category: str = "dependency_missing",
    kind: str = "missing-python-module",
    repository: str = "acme/churn-model",
    run_id: int = 1,
    status: str = "resolved",
    **extra: Any,
) -> dict[str, Any]:
    """An incident as the detector stores it after diagnosis."""
    return {
        "id": f"inc-{repository.split('/')[1]}-{run_id}",
        "tenant_id": "default",
        "repository": repository,
        "type": "pipeline_failure",
        "severity": "high",
        "status": status,
        "description": f"Workflow 'CI' failure on main: {category} ({kind})",
        "detected_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "metadata": {"workflow_name": "CI", "run_id": run_id, "head_branch": "main", "category": category},
        "diagnosis": {
            "category": category,
            "kind": kind,
            "details": {},
            "evidence": [{"line": 212, "text": line}] if line else [],
            "confidence": 0.9,
        },
        **extra,
    }


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "FileNotFoundError: [Errno 2] No such file or directory: 'data/2025-06-01/train.csv'",
            "FileNotFoundError: [Errno 2] No such file or directory: 'data/2025-06-02/train.csv'",
        ),
        (
            "2025-06-01T04:12:33.1234567Z \x1b[31mE       ModuleNotFoundError: No module named 'cv2'\x1b[0m",
            "ModuleNotFoundError: No module named 'cv2'",
        ),
        (
            "curl: (7) Failed to connect to 10.0.3.7 port 443 after 1021 ms: Couldn't connect to server",
            "curl: (7) Failed to connect to 10.0.9.112 port 443 after 3 ms: Couldn't connect to server",
        ),
        (
            "fatal: reference is not a tree: 3f5e2a1b9c0d4e6f7a8b9c0d1e2f3a4b5c6d7e8f",
            "fatal: reference is not a tree: 9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c",
        ),
        (
            "ImportError: cannot import name 'approx_equal' from 'pytest' "
            "(/home/runner/work/_tool/Python/3.11.9/x64/lib/python3.11/site-packages/pytest/__init__.py)",
            "ImportError: cannot import name 'approx_equal' from 'pytest' "
            "(/opt/hostedtoolcache/Python/3.11.4/x64/lib/python3.11/site-packages/pytest/__init__.py)",
        ),
        (
            "FAILED tests/test_metrics.py::test_f1 - assert 0.44 == 0.5",
            "FAILED tests/test_metrics.py::test_f1 - assert 0.41 == 0.5",
        ),
        (
            "##[error]The job running on runner GitHub Actions 2 has exceeded the maximum execution time of 360 min",
            "Error: The job running on runner GitHub Actions 17 has exceeded the maximum execution time of 60 minutes",
        ),
        (
            "Run 550e8400-e29b-41d4-a716-446655440000 lost its runner at 04:12:33",
            "Run 7c9e6679-7425-40de-944b-e07fc1f90ae7 lost its runner at 23:01:09",
        ),
        (
            "RuntimeError: CUDA out of memory. Tried to allocate 2.50 GiB (GPU 0; 15.78 GiB total capacity)",
            "RuntimeError: CUDA out of memory. Tried to allocate 512 MiB (GPU 0; 15.78 GiB total capacity)",
        ),
        (
            "ERROR: Could not find a version that satisfies the requirement torch==9.9.9 "
            "(from versions: 1.13.0, 1.13.1, 2.0.0, 2.0.1)",
            "ERROR: Could not find a version that satisfies the requirement torch==9.9.8 (from versions: 2.5.0, 2.5.1)",
        ),
    ],
)
def test_run_specific_details_do_not_split_a_pattern(first: str, second: str) -> None:
    assert normalise(first) == normalise(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ModuleNotFoundError: No module named 'sklearn'", "ModuleNotFoundError: No module named 'torch'"),
        ("Error: Cannot find module 'express'", "Error: Cannot find module 'lodash'"),
        (
            "FAILED tests/test_metrics.py::test_f1 - assert 0.44 == 0.5",
            "FAILED tests/test_metrics.py::test_accuracy - assert 0.44 == 0.5",
        ),
        ("OSError: [Errno 28] No space left on device", "OSError: [Errno 12] Cannot allocate memory"),
    ],
)
def test_names_that_decide_the_fix_keep_patterns_apart(first: str, second: str) -> None:
    assert normalise(first) != normalise(second)


def test_normalised_lines_read_as_templates() -> None:
    assert (
        normalise("src/metrics.py:4:1: E302 expected 2 blank lines, found 0")
        == "<path>:<n>:<n>: E302 expected <n> blank lines, found <n>"
    )
    assert (
        normalise("fatal: unable to access 'https://github.com/org/models.git/': The requested URL returned error: 403")
        == "fatal: unable to access '<url>': The requested URL returned error: <n>"
    )
    assert (
        normalise("python: can't open file '/home/runner/work/mlproj/scripts/train_model.py': [Errno 2] No such file")
        == "python: can't open file '<path>': [Errno <n>] No such file"
    )


def test_signature_comes_from_the_diagnosis_then_the_failure_reason_then_the_description() -> None:
    diagnosed = incident(NOW, "E       ModuleNotFoundError: No module named 'yaml'")
    assert signature_of(diagnosed).text == "ModuleNotFoundError: No module named 'yaml'"
    assert (signature_of(diagnosed).category, signature_of(diagnosed).type) == (
        "dependency_missing",
        "missing_python_module",
    )

    reason_only = incident(NOW, None)
    reason_only["metadata"]["failure_reason"] = "MemoryError"
    assert signature_of(reason_only).text == "MemoryError"

    bare = {
        "id": "inc-1",
        "repository": "acme/api",
        "type": "deployment_failure",
        "detected_at": "2025-08-27T20:00:00Z",
        "description": "Deployment 42 of v1.4.2 to production failure",
    }
    signature = signature_of(bare)
    assert (signature.category, signature.kind, signature.type) == (
        "deployment_failure",
        "deployment_failure",
        "deployment_failure",
    )
    assert signature.text == "Deployment <n> of <version> to production failure"


def history() -> list[dict[str, Any]]:
    """Three weeks of a tenant: a recurring missing module, a nightly export and one-offs."""
    incidents: list[dict[str, Any]] = []
    run = 100
    for day in (1, 4, 9, 15):  # sklearn keeps disappearing from requirements in two repositories
        run += 1
        repository = "acme/churn-model" if day < 9 else "acme/fraud-model"
        incidents.append(
            incident(
                NOW - timedelta(days=21 - day),
                "ModuleNotFoundError: No module named 'sklearn'",
                repository=repository,
                run_id=run,
            )
        )
    for day in (2, 12, 16):
        run += 1
        incidents.append(
            incident(NOW - timedelta(days=21 - day), "E   ModuleNotFoundError: No module named 'torch'", run_id=run)
        )
    for day in range(15, 22):  # the nightly export lands late every night at about 03:00
        run += 1
        at = (NOW - timedelta(days=21 - day)).replace(hour=3, minute=(day * 7) % 20)
        incidents.append(
            incident(
                at,
                f"FileNotFoundError: [Errno 2] No such file or directory: 'exports/2025-08-{day:02d}/features.parquet'",
                category="data_missing",
                kind="data-file-not-found",
                repository="acme/fraud-model",
                run_id=run,
                status="open" if day == 21 else "resolved",
            )
        )
    incidents.append(
        incident(
            NOW - timedelta(days=3),
            "SyntaxError: '(' was never closed",
            category="syntax_error",
            kind="python-syntax-error",
            run_id=999,
        )
    )
    return incidents


def test_incidents_cluster_into_patterns_ordered_by_frequency() -> None:
    patterns = find_patterns(history(), NOW)

    assert [(p.type, p.frequency) for p in patterns] == [
        ("data_file_not_found", 7),
        ("missing_python_module", 4),
        ("missing_python_module", 3),
    ]
    nightly, sklearn, torch = patterns
    assert nightly.signature == "FileNotFoundError: [Errno <n>] No such file or directory: '<path>'"
    assert nightly.example.endswith("'exports/2025-08-21/features.parquet'")
    assert nightly.open_incidents == 1
    assert sklearn.repositories == ["acme/churn-model", "acme/fraud-model"]
    assert sklearn.first_occurrence == "2025-08-07T21:00:00Z"
    assert sklearn.last_occurrence == "2025-08-21T21:00:00Z"
    assert torch.signature == "ModuleNotFoundError: No module named 'torch'"
    assert len({p.pattern_id for p in patterns}) == 3
    assert find_patterns(history(), NOW)[0].pattern_id == nightly.pattern_id  # stable across calls


def test_min_frequency_repository_and_since_narrow_the_answer() -> None:
    everything = find_patterns(history(), NOW, min_frequency=1)
    assert "python_syntax_error" in {p.type for p in everything}

    churn = find_patterns(history(), NOW, repository="ACME/churn-model")
    assert {(p.type, p.frequency) for p in churn} == {("missing_python_module", 2), ("missing_python_module", 3)}

    last_week = find_patterns(history(), NOW, since=NOW - timedelta(days=7))
    assert [(p.type, p.frequency) for p in last_week] == [("data_file_not_found", 7)]


def test_a_nightly_failure_is_forecast_for_the_next_night_with_high_confidence() -> None:
    [nightly] = [p for p in find_patterns(history(), NOW) if p.type == "data_file_not_found"]

    assert nightly.predicted_next is not None
    predicted = datetime.fromisoformat(nightly.predicted_next)
    assert predicted > NOW
    assert abs(predicted - datetime(2025, 8, 28, 3, 10, tzinfo=UTC)) < timedelta(hours=1)
    assert nightly.confidence > 0.9
    assert nightly.typical_interval_hours == pytest.approx(24, abs=0.5)


def test_irregular_arrivals_get_low_confidence() -> None:
    gaps = np.random.default_rng(3).exponential(30, size=12)
    times = [NOW - timedelta(days=30) + timedelta(hours=float(h)) for h in np.cumsum(gaps)]
    _, confidence = Recurrence.of(times).forecast(times[-1] + timedelta(hours=1))
    assert 0 < confidence < 0.4


def test_fewer_than_two_gaps_give_no_confidence() -> None:
    assert Recurrence.of([]).forecast(NOW) == (None, 0.0)
    assert Recurrence.of([NOW - timedelta(days=1)]).forecast(NOW) == (None, 0.0)
    predicted, confidence = Recurrence.of([NOW - timedelta(days=3), NOW - timedelta(days=1)]).forecast(NOW)
    assert (predicted, confidence) == (NOW + timedelta(days=1), 0.0)
    assert Recurrence.of([NOW - timedelta(days=3), NOW - timedelta(days=1)]).probability_within(NOW, 24) is None


def test_a_burst_of_simultaneous_failures_is_one_arrival() -> None:
    burst = [NOW - timedelta(days=d, minutes=m) for d in (1, 2, 3) for m in (0, 2, 5)]
    recurrence = Recurrence.of(burst)
    assert len(recurrence.gaps) == 2
    assert recurrence.typical_gap_hours == pytest.approx(24, abs=0.01)


def test_a_pattern_silent_far_beyond_its_rhythm_is_reported_as_stopped() -> None:
    daily = [NOW - timedelta(days=20 - d) for d in range(8)]  # daily until 13 days ago, then nothing
    predicted, confidence = Recurrence.of(daily).forecast(NOW)
    assert (predicted, confidence) == (None, 0.0)
    assert Recurrence.of(daily).probability_within(NOW, 24) == 0.0


def test_a_late_pattern_is_still_expected_after_now_not_in_the_past() -> None:
    daily = [NOW - timedelta(hours=27 + 24 * k) for k in range(6)]  # three hours late tonight
    predicted, confidence = Recurrence.of(daily).forecast(NOW)
    assert predicted is not None and NOW < predicted < NOW + timedelta(hours=6)
    assert 0 < confidence <= 1


def test_the_forecast_follows_a_pattern_that_speeds_up() -> None:
    start = NOW - timedelta(days=10)
    offsets = [0, 48, 96, 144, 156, 168, 180]
    recurrence = Recurrence.of([start + timedelta(hours=h) for h in offsets])
    assert recurrence.typical_gap_hours is not None
    assert recurrence.typical_gap_hours < float(np.mean(recurrence.gaps))


def test_report_has_the_spec_fields_first() -> None:
    body = report(history(), NOW, since=NOW - timedelta(days=30)).model_dump()
    assert body["total"] == len(body["patterns"]) == 3
    assert body["generated_at"] == "2025-08-27T21:00:00Z"
    assert list(body["patterns"][0])[:6] == [
        "pattern_id",
        "type",
        "frequency",
        "last_occurrence",
        "predicted_next",
        "confidence",
    ]


@pytest.mark.parametrize(("period", "hours"), [("1h", 1), ("24h", 24), ("7d", 168), ("2w", 336)])
def test_periods_parse(period: str, hours: int) -> None:
    assert parse_period(period) == timedelta(hours=hours)


@pytest.mark.parametrize("period", ["0h", "24", "7y", "-1d", ""])
def test_bad_periods_are_refused(period: str) -> None:
    with pytest.raises(ValueError, match="period"):
        parse_period(period)
