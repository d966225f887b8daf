"""How sure the diagnosis must be before the bot writes (issue 14): thresholds, the PR gate, the corpus.

The corpus test is the promise users rely on: on every labelled real-tool log, at every
``detection_sensitivity``, the bot would open no fix PR that the label says is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_bot.diagnosis import Category, Problem, would_open_fix_pr, write_threshold
from mlops_bot.diagnosis.confidence import THRESHOLDS, brier_score, calibrated
from mlops_bot.diagnosis.evaluation import CaseResult, evaluate, report

CORPUS = Path(__file__).resolve().parents[2] / "data" / "logs"


@pytest.fixture(scope="module")
def results() -> list[CaseResult]:
    corpora = [CORPUS, *sorted(p.parent for p in CORPUS.glob("*/expected.json") if p.parent.name != "holdout")]
    return [result for corpus in corpora for result in evaluate(corpus)]


def test_sensitivity_sets_the_write_threshold() -> None:
    assert write_threshold("low") > write_threshold("medium") > write_threshold("high") >= 0.5
    assert write_threshold(None) == write_threshold("medium") == THRESHOLDS["medium"]


def test_a_fix_pr_needs_a_fixable_diagnosis_above_the_threshold() -> None:
    sure = Problem(
        category=Category.DEPENDENCY_MISSING,
        kind="missing-python-module",
        details={"module": "sklearn", "package": "scikit-learn"},
        confidence=0.9,
    )

    assert would_open_fix_pr(sure, write_threshold("medium"))
    assert not would_open_fix_pr(sure, write_threshold("low"))
    assert not would_open_fix_pr(sure.model_copy(update={"details": {"module": "ourpkg", "package": None}}), 0.5)
    assert not would_open_fix_pr(sure.model_copy(update={"category": Category.TEST_FAILURE}), 0.5)
    assert not would_open_fix_pr(sure.model_copy(update={"details": {**sure.details, "fix_pr": False}}), 0.5)


def test_calibration_only_lowers_a_rules_estimate() -> None:
    for kind in ("missing-python-module", "pytest-failure", "never-seen-kind"):
        for raw in (0.1, 0.5, 0.9, 1.0):
            assert 0.0 <= calibrated(kind, raw) <= raw


@pytest.mark.parametrize("sensitivity", ["low", "medium", "high"])
def test_no_wrong_fix_pr_on_the_corpus(results: list[CaseResult], sensitivity: str) -> None:
    threshold = write_threshold(sensitivity)

    wrong = [
        (r.name, r.problem.category.value, r.problem.details.get("package")) for r in results if r.wrong_pr(threshold)
    ]

    assert wrong == []


def test_every_diagnosis_carries_a_confidence_and_the_report_prints_per_family(results: list[CaseResult]) -> None:
    assert len(results) >= 130
    assert all(0.0 <= r.problem.confidence <= 1.0 for r in results)
    text = report(results)
    assert "ALL" in text and "Brier score" in text
    assert brier_score([(r.problem.confidence, r.correct) for r in results]) < 0.1
