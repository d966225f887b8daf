"""How sure a diagnosis must be before the bot writes: thresholds, the fix-PR gate and calibration.

A `Problem`'s confidence is calibrated on the project's corpus of real logs (``tests/data/logs``): the
rule's own estimate is shrunk towards the precision its kind achieved there (a Beta posterior, see
`calibrated`), so "0.9" means "about nine in ten diagnoses like this one were right".

The repository's ``detection_sensitivity`` picks the threshold a fix PR needs (`write_threshold`):

========== ========= ===============================================================
sensitivity threshold meaning
========== ========= ===============================================================
``low``    0.95      write only on the surest diagnoses; everything else is an issue
``medium`` 0.85      the default
``high``   0.75      act on more diagnoses; still never on inconclusive ones
========== ========= ===============================================================

`would_open_fix_pr` is the one gate: a PR needs a fixable category, the details a fixer needs (a
package to add that is not the repository's own, a tool, or a guess), and confidence at or above the
threshold. Below it the bot opens an issue carrying the diagnosis instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache

from mlops_bot.diagnosis import package_data
from mlops_bot.diagnosis.category import Category

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the CLI start ~5 ms
if TYPE_CHECKING:
    from typing import Literal

    from mlops_bot.diagnosis.problem import Problem

    Sensitivity = Literal["low", "medium", "high"]
else:
    Sensitivity = str

THRESHOLDS: Mapping[str, float] = {"low": 0.95, "medium": 0.85, "high": 0.75}
DEFAULT_SENSITIVITY: Sensitivity = "medium"

# Categories a fix PR exists for (the rest are re-runs, issues or nothing).
FIXABLE = frozenset(
    {Category.DEPENDENCY_MISSING, Category.DEPENDENCY_RESOLUTION, Category.TIMEOUT, Category.FLAKY_TEST}
)

# Timeouts a PR can fix: the workflow's own timeout-minutes (job or step). A test or command that hangs
# is not fixed by waiting longer.
TIMEOUT_FIXES = frozenset({"job-timeout", "step-timeout"})

# Prior strength of the rule's own estimate, in pseudo-observations, when calibrating on the corpus.
PRIOR_WEIGHT = 4.0
CALIBRATION_FILE = "calibration.json"


def write_threshold(sensitivity: Sensitivity | str | None) -> float:
    """The confidence a diagnosis needs before the bot opens a fix PR, for a ``detection_sensitivity``.

    ``None`` or an unknown value means the default (``medium``).
    """
    return THRESHOLDS.get(sensitivity or DEFAULT_SENSITIVITY, THRESHOLDS[DEFAULT_SENSITIVITY])


def fix_pr_blocker(problem: Problem) -> str | None:
    """Why no fix PR may be opened for this diagnosis whatever its confidence, or None if one may."""
    details = problem.details
    if problem.category not in FIXABLE:
        return f"no fix PR exists for {problem.category.value}"
    if details.get("fix_pr") is False:
        return str(details.get("no_fix_reason") or "the diagnosis says a PR would not fix this")
    if problem.category is Category.TIMEOUT and problem.kind not in TIMEOUT_FIXES:
        return f"a {problem.kind} is not fixed by raising the job's timeout-minutes"
    if problem.category is Category.FLAKY_TEST and not (details.get("flaky_tests") or details.get("tests")):
        return "no test is named to quarantine"
    if problem.category is Category.DEPENDENCY_RESOLUTION and not details.get("package"):
        return "no pin is named to move"
    if problem.category is Category.DEPENDENCY_MISSING:
        if not details.get("package"):
            return "no package to add (the module is local, from the standard library or unknown)"
        if details.get("local"):
            return "the missing module is the repository's own"
        if details.get("tool"):
            return (
                f"{details.get('package')} is a tool run as a module; the workflow, not the requirements, installs it"
            )
    return None


def would_open_fix_pr(problem: Problem, threshold: float) -> bool:
    """Whether the bot may open a fix PR for `problem` at `threshold` (from `write_threshold`)."""
    return fix_pr_blocker(problem) is None and problem.confidence >= threshold


# --------------------------------------------------------------------------------------------------
# Calibration


@lru_cache(maxsize=1)
def calibration_table() -> Mapping[str, tuple[int, int]]:
    """``kind -> (diagnoses, correct)`` measured on the corpus (see ``bench/bench_diagnosis.py --calibrate``)."""
    try:
        text = package_data.read_text(CALIBRATION_FILE)
    except FileNotFoundError:
        return {}
    payload = json.loads(text)
    return {kind: (int(row[0]), int(row[1])) for kind, row in payload.get("kinds", {}).items()}


def calibrated(kind: str, raw: float) -> float:
    """The rule's estimate `raw` updated with the corpus' record for `kind`.

    Beta posterior mean with the rule's estimate as prior mean and `PRIOR_WEIGHT` pseudo-observations:
    ``(correct + w * raw) / (n + w)``. Calibration only ever lowers an estimate: a kind that was wrong
    on the corpus loses confidence, one that was always right keeps the rule's own (an inconclusive
    guess stays below every write threshold however often guesses happened to be right). A kind never
    seen in the corpus keeps its raw estimate.
    """
    n, correct = calibration_table().get(kind, (0, 0))
    if n == 0:
        return raw
    return min(raw, (correct + PRIOR_WEIGHT * raw) / (n + PRIOR_WEIGHT))


def brier_score(pairs: list[tuple[float, bool]]) -> float:
    """Mean squared gap between confidence and outcome (0 is perfect; always saying 0.5 scores 0.25)."""
    if not pairs:
        return 0.0
    return sum((confidence - float(correct)) ** 2 for confidence, correct in pairs) / len(pairs)
