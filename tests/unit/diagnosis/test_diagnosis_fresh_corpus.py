"""The fresh blind corpus (tests/data/logs/fresh): never a fix PR its labels rule out.

Those logs were made by running real tools in scenarios no other corpus held, and labelled before the
rules were read; `bench/bench_diagnosis_families.py` measures accuracy on them. What is asserted here is
the promise a user relies on whatever the accuracy: the bot opens no fix PR a person would reject — not
for a package a build backend needs, a private npm scope, a CUDA build from another index — and, when it
names the one package a PR may add, it names that one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_bot.diagnosis import Category, diagnose_path, would_open_fix_pr, write_threshold

FRESH = Path(__file__).resolve().parents[2] / "data" / "logs" / "fresh"
LABELS: dict[str, dict[str, Any]] = json.loads((FRESH / "labels.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("log", sorted(LABELS))
def test_no_fix_pr_the_label_rules_out(log: str) -> None:
    label = LABELS[log]
    problem = diagnose_path(FRESH / log)

    opens = would_open_fix_pr(problem, write_threshold("high"))

    assert not (opens and not label["fix_pr_ok"]), problem.details
    wanted = label["details"].get("package")
    if opens and wanted:
        assert str(problem.details.get("package")).lower() == wanted.lower()


@pytest.mark.parametrize(
    ("log", "blocked"),
    [
        ("f_pip_build_backend_unavailable.log", "build-system"),
        ("f_npm_private_package_404.log", "registry"),
        ("f_pip_cuda_local_version.log", "local version"),
    ],
)
def test_a_cause_no_pin_or_requirement_fixes_says_why(log: str, blocked: str) -> None:
    problem = diagnose_path(FRESH / log)

    assert problem.details.get("fix_pr") is False
    assert blocked in problem.details["no_fix_reason"]
    if problem.category is Category.DEPENDENCY_MISSING:
        assert problem.details.get("package") is None  # a build requirement is named, not offered as a package


def test_a_project_folder_is_never_a_package_to_add() -> None:
    problem = diagnose_path(FRESH / "f_import_local_src_cwd.log")

    assert problem.kind == "missing-local-module"
    assert problem.details["package"] is None
