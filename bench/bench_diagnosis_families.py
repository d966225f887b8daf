"""Per tool family and per corpus half: how the diagnosis does on the toolchain corpora.

Reads ``tests/data/logs/toolchain/labels.json`` (the training half, which the rules in
``mlops_bot.diagnosis.toolchain`` were written against) and ``tests/data/logs/holdout/labels.json``
(the held-out half, built first and not read while writing rules) and ``tests/data/logs/fresh/labels.json``
(a blind half built and labelled before the rules were last read: new scenarios, an ML team's CI; the
rules were then fixed against it) and ``tests/data/logs/fresh2/labels.json`` (a second blind half built
after that fix, to measure it),
diagnoses every log and prints,
per family and half:

* category accuracy: the diagnosed category is the labelled one;
* unknown rate: the diagnosis is ``unknown``;
* evidence hit rate: one of the diagnosis's evidence lines is a line stating the cause (it contains one
  of the label's ``evidence`` substrings), not boilerplate;
* wrong PRs: the diagnosis would open a fix PR (at ``high`` sensitivity, or any ``dependency_missing``
  naming a package) where the label says no fix PR is acceptable, or names another package than the
  label's.

``--baseline`` adds the same figures for the classifier without ``toolchain.py`` (core rules only),
measured in the same run, so the gain is read off one table.

Usage::

    .venv/bin/python bench/bench_diagnosis_families.py [--baseline] [--json] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mlops_bot.diagnosis.classifier as classifier
from mlops_bot.diagnosis import Category, Problem, diagnose_path
from mlops_bot.diagnosis import rules as core
from mlops_bot.diagnosis.confidence import fix_pr_blocker, would_open_fix_pr, write_threshold

ROOT = Path(__file__).resolve().parents[1]
HALVES = {
    "training": ROOT / "tests/data/logs/toolchain",
    "holdout": ROOT / "tests/data/logs/holdout",
    "fresh": ROOT / "tests/data/logs/fresh",
    "fresh2": ROOT / "tests/data/logs/fresh2",
    "fresh3": ROOT / "tests/data/logs/fresh3",
    "fresh4": ROOT / "tests/data/logs/fresh4",
    "fresh5": ROOT / "tests/data/logs/fresh5",
}


@dataclass
class Outcome:
    half: str
    family: str
    log: str
    expected: str
    got: str
    kind: str
    correct: bool
    unknown: bool
    evidence_hit: bool
    wrong_pr: bool


def would_open_wrong_pr(problem: Problem, label: dict[str, Any]) -> bool:
    """A fix PR the bot would open at the most eager sensitivity (``high``) that the label rules out.

    Wrong when the label says no PR fits, or when it names the one package a PR may add and the
    diagnosis names another (``fitz`` for PyMuPDF). A ``dependency_missing`` with a ``package`` counts
    whatever its confidence: the package is a claim the issue text repeats.
    """
    opens_pr = would_open_fix_pr(problem, write_threshold("high")) or (
        problem.category is Category.DEPENDENCY_MISSING
        and bool(problem.details.get("package"))
        and fix_pr_blocker(problem) is None
    )
    if not opens_pr:
        return False
    if not label["fix_pr_ok"]:
        return True
    wanted = label.get("details", {}).get("package")
    return bool(wanted) and str(problem.details.get("package", "")).lower() != str(wanted).lower()


def evidence_hit(problem: Problem, label: dict[str, Any]) -> bool:
    return any(needle in item.text for item in problem.evidence for needle in label["evidence"])


def score(half: str) -> list[Outcome]:
    folder = HALVES[half]
    labels: dict[str, dict[str, Any]] = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    outcomes = []
    for log, label in sorted(labels.items()):
        problem = diagnose_path(folder / log)
        outcomes.append(
            Outcome(
                half=half,
                family=label["family"],
                log=log,
                expected=label["category"],
                got=problem.category.value,
                kind=problem.kind,
                correct=problem.category.value == label["category"],
                unknown=problem.category is Category.UNKNOWN,
                evidence_hit=evidence_hit(problem, label),
                wrong_pr=would_open_wrong_pr(problem, label),
            )
        )
    return outcomes


def summarise(outcomes: list[Outcome]) -> dict[str, float | int]:
    n = len(outcomes)
    return {
        "logs": n,
        "accuracy": sum(o.correct for o in outcomes) / n if n else 0.0,
        "unknown": sum(o.unknown for o in outcomes) / n if n else 0.0,
        "evidence": sum(o.evidence_hit for o in outcomes) / n if n else 0.0,
        "wrong_prs": sum(o.wrong_pr for o in outcomes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--verbose", action="store_true", help="also list every log that is not fully right")
    parser.add_argument("--baseline", action="store_true", help="also score the core rules alone (no toolchain.py)")
    args = parser.parse_args(argv)
    report: dict[str, dict[str, dict[str, float | int]]] = {}
    all_outcomes: list[Outcome] = []
    runs = [("", classifier.RULES)]
    if args.baseline:
        runs.append((" (core)", core.RULES))
    for suffix, rules in runs:
        classifier.RULES = rules  # the walk reads the module's list at call time
        for half in HALVES:
            outcomes = score(half)
            if not suffix:
                all_outcomes += outcomes
            families = sorted({o.family for o in outcomes})
            key = half + suffix
            report[key] = {family: summarise([o for o in outcomes if o.family == family]) for family in families}
            report[key]["ALL"] = summarise(outcomes)
    classifier.RULES = runs[0][1]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    header = f"{'half':<16} {'family':<20} {'logs':>4} {'accuracy':>8} {'unknown':>8} {'evidence':>8} {'wrong PRs':>9}"
    print(header)
    print("-" * len(header))
    for half, families in report.items():
        for family, s in families.items():
            print(
                f"{half:<16} {family:<20} {s['logs']:>4} {s['accuracy']:>8.0%} {s['unknown']:>8.0%}"
                f" {s['evidence']:>8.0%} {s['wrong_prs']:>9}"
            )
        print()
    if args.verbose:
        for o in all_outcomes:
            if not (o.correct and o.evidence_hit) or o.wrong_pr:
                print(json.dumps(asdict(o)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
