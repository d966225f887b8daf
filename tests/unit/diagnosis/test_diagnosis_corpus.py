"""Every log in the real-tool corpus is classified as expected.json says (one case or more per category)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mlops_bot.diagnosis import Category, Problem, diagnose_path
from mlops_bot.diagnosis.logs import display_line, normalize_line

CORPUS = Path(__file__).resolve().parents[2] / "data" / "logs"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


def _diagnose(name: str) -> Problem:
    expected = EXPECTED[name]
    return diagnose_path(CORPUS / name, own_packages=expected.get("own_packages", ()))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_log_is_classified_as_expected(name: str) -> None:
    expected = EXPECTED[name]
    problem = _diagnose(name)

    assert (problem.category.value, problem.kind) == (expected["category"], expected["kind"])
    for key, value in expected["details"].items():
        assert problem.details.get(key) == value, key
    if "step" in expected:
        assert problem.step == expected["step"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_evidence_quotes_the_analysed_log_at_its_line_numbers(name: str) -> None:
    problem = _diagnose(name)
    if name.endswith(".zip"):
        member = problem.details["log_member"]
        with zipfile.ZipFile(CORPUS / name) as archive:
            raw = archive.read(member).decode("utf-8-sig").splitlines()
    else:
        raw = (CORPUS / name).read_text(encoding="utf-8-sig").splitlines()

    for item in problem.evidence:
        assert 1 <= item.line <= len(raw)
        assert display_line(normalize_line(raw[item.line - 1])).startswith(item.text)


def test_failures_are_found_with_evidence_and_confidence() -> None:
    for name, expected in EXPECTED.items():
        if expected["category"] == "unknown":
            continue
        problem = _diagnose(name)
        assert problem.evidence, name
        assert problem.confidence >= 0.5, name


def test_corpus_covers_every_category() -> None:
    covered = {expected["category"] for expected in EXPECTED.values()}
    assert covered == {category.value for category in Category}


def test_corpus_logs_are_in_github_actions_format() -> None:
    for name in EXPECTED:
        if name.endswith(".zip"):
            continue
        raw = (CORPUS / name).read_bytes()
        assert raw.startswith("\ufeff".encode()), name
        first_lines: list[Any] = raw.decode("utf-8-sig").splitlines()[:3]
        assert all(line[4] == "-" and line[10] == "T" and line[27:29] == "Z " for line in first_lines), name
        assert b"##[group]Run " in raw, name


def test_steps_are_named_after_the_failing_run_group() -> None:
    problem = _diagnose("pip_no_matching_version.log")
    assert problem.step == "Run pip install torch==9.9.9"
