"""Scoring the diagnosis on a labelled corpus: accuracy per tool family, wrong fix PRs, calibration.

A corpus is a folder of logs plus ``expected.json`` (file -> label). A label holds ``category``,
``kind``, a ``details`` subset (``package`` among them when a package is at stake), optionally the
tool ``family``, ``own_packages`` (the repository's local names) and ``fix_pr``: whether a fix PR is an
acceptable answer. A *wrong fix PR* is one the bot would open (`would_open_fix_pr` at the threshold)
where the label says no PR, or names another package, or another category.

Used by the unit tests (0 wrong fix PRs) and by ``bench/bench_diagnosis.py --corpus`` (the report and
the calibration table).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_bot.diagnosis.classifier import diagnose_path
from mlops_bot.diagnosis.confidence import FIXABLE, brier_score, would_open_fix_pr, write_threshold
from mlops_bot.diagnosis.problem import Category, Problem


@dataclass(frozen=True)
class CaseResult:
    name: str
    family: str
    label: Mapping[str, Any]
    problem: Problem

    @property
    def category_ok(self) -> bool:
        return bool(self.problem.category.value == self.label["category"])

    @property
    def correct(self) -> bool:
        """Category and kind as labelled (what calibration counts as a right answer)."""
        return self.category_ok and self.problem.kind == self.label["kind"]

    @property
    def package_expected(self) -> bool:
        return "package" in self.label.get("details", {})

    @property
    def package_ok(self) -> bool:
        return bool(self.problem.details.get("package") == self.label.get("details", {}).get("package"))

    @property
    def fix_pr_acceptable(self) -> bool:
        return bool(self.label.get("fix_pr", default_fix_pr(self.label)))

    def opens_pr(self, threshold: float) -> bool:
        return would_open_fix_pr(self.problem, threshold)

    def wrong_pr(self, threshold: float) -> bool:
        if not self.opens_pr(threshold):
            return False
        return not (self.fix_pr_acceptable and self.category_ok and (self.package_ok or not self.package_expected))


def default_fix_pr(label: Mapping[str, Any]) -> bool:
    """For labels written before ``fix_pr`` existed: a PR fits a fixable category with what it needs."""
    category = Category(label["category"])
    if category not in FIXABLE:
        return False
    details = label.get("details", {})
    if category is Category.DEPENDENCY_MISSING:
        return bool(details.get("package"))
    return label.get("kind") in {"pip-no-matching-distribution", "job-timeout", "step-timeout", "inconsistent-outcome"}


_FAMILIES = (  # for labels without a ``family``: the tool family a kind belongs to
    (("missing-python", "missing-local", "missing-stdlib", "python-import", "python-module"), "python-import"),
    (("pip-",), "pip"),
    (("pytest-", "unittest-", "inconsistent-outcome"), "pytest"),
    (("ruff", "black", "mypy", "flake8", "isort", "prettier", "eslint", "pylint"), "lint"),
    (("npm-", "node-", "missing-node"), "node"),
    (("connection-", "dns-", "http-", "git-"), "network"),
    (("oom-", "allocation-", "python-memory", "cuda-"), "memory"),
    (("runner-", "job-timeout", "step-timeout", "disk-full", "cancelled"), "runner"),
    (("command-", "missing-command", "exec-permission", "permission-denied"), "shell"),
    (("file-not-found", "dvc-"), "data"),
    (("python-syntax", "python-permission"), "python"),
)


def family_of(name: str, label: Mapping[str, Any]) -> str:
    if "family" in label:
        return str(label["family"])
    kind = str(label["kind"])
    for prefixes, family in _FAMILIES:
        if kind.startswith(prefixes):
            return family
    return kind


def load_labels(corpus: Path) -> dict[str, dict[str, Any]]:
    labels: dict[str, dict[str, Any]] = json.loads((corpus / "expected.json").read_text(encoding="utf-8"))
    return labels


def evaluate(corpus: Path, labels: Mapping[str, Mapping[str, Any]] | None = None) -> list[CaseResult]:
    """Diagnose every labelled log of `corpus`."""
    labels = labels if labels is not None else load_labels(corpus)
    results: list[CaseResult] = []
    for name, label in sorted(labels.items()):
        problem = diagnose_path(corpus / name, own_packages=label.get("own_packages", ()))
        results.append(CaseResult(name, family_of(name, label), label, problem))
    return results


def calibration_counts(results: Iterable[CaseResult]) -> dict[str, tuple[int, int]]:
    """``kind -> (diagnoses with that kind, of which correct)``, the table `calibrated` reads."""
    counts: dict[str, list[int]] = {}
    for result in results:
        row = counts.setdefault(result.problem.kind, [0, 0])
        row[0] += 1
        row[1] += int(result.correct)
    return {kind: (n, ok) for kind, (n, ok) in sorted(counts.items())}


def report(results: list[CaseResult]) -> str:
    """Per family: cases, category accuracy, package accuracy, wrong fix PRs at each sensitivity."""
    thresholds = {level: write_threshold(level) for level in ("low", "medium", "high")}
    families = sorted({r.family for r in results})
    lines = [
        f"{'family':<22} {'logs':>4} {'category':>9} {'package':>9} {'PRs@med':>8} {'wrong PR low/med/high':>22}",
    ]

    def row(name: str, group: list[CaseResult]) -> str:
        category = sum(r.category_ok for r in group) / len(group)
        with_package = [r for r in group if r.package_expected]
        package = f"{sum(r.package_ok for r in with_package) / len(with_package):9.0%}" if with_package else f"{'-':>9}"
        opened = sum(r.opens_pr(thresholds["medium"]) for r in group)
        wrong = "/".join(str(sum(r.wrong_pr(t) for r in group)) for t in thresholds.values())
        return f"{name:<22} {len(group):>4} {category:9.0%} {package} {opened:>8} {wrong:>22}"

    for family in families:
        lines.append(row(family, [r for r in results if r.family == family]))
    lines.append(row("ALL", results))
    pairs = [(r.problem.confidence, r.correct) for r in results]
    lines.append(f"Brier score {brier_score(pairs):.4f} over {len(pairs)} logs (0 = perfect; 0.25 = always 0.5)")
    lines.append(reliability(pairs))
    return "\n".join(lines)


def reliability(pairs: list[tuple[float, bool]], bins: int = 5) -> str:
    """A reliability table: per confidence bin, the mean confidence and the share that was right."""
    rows = ["confidence bin   logs  mean conf  accuracy"]
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(c, ok) for c, ok in pairs if low <= c < high or (b == bins - 1 and c == 1.0)]
        if inside:
            mean = sum(c for c, _ in inside) / len(inside)
            accuracy = sum(ok for _, ok in inside) / len(inside)
            rows.append(f"[{low:.1f}, {high:.1f})   {len(inside):>5}  {mean:9.3f}  {accuracy:8.1%}")
    return "\n".join(rows)
