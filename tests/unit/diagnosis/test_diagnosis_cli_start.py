"""`mlops-bot diagnose --json` starts at once and prints exactly the `Problem` the bot acts on.

The CLI prints the classifier's plain `Diagnosis` (no pydantic at start); these check that its JSON is
byte for byte `Problem.model_dump_json(indent=2)` on every corpus log, and that the command loads none
of the server stack. Timing lives in bench/bench_cli_start.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_bot.diagnosis import Category, Problem, diagnose_path
from mlops_bot.diagnosis.classifier import diagnosis_of_path
from mlops_bot.diagnosis.result import Cited, Diagnosis

CORPUS = Path(__file__).resolve().parents[2] / "data" / "logs"
LOGS = sorted(path for path in CORPUS.rglob("*") if path.suffix in {".log", ".zip"})

# What a `diagnose` run must never load: the server stack, the drift stack, and pydantic.
HEAVY = ("boto3", "botocore", "githubkit", "httpx", "aws_lambda_powertools", "numpy", "scipy", "pyarrow", "pydantic")

PROBE = """
import json, sys
from mlops_bot.cli import main
code = main({argv!r})
print("MODULES:" + json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("path", LOGS, ids=lambda path: str(path.relative_to(CORPUS)))
def test_cli_json_is_the_problems_json(path: Path) -> None:
    assert diagnosis_of_path(path).to_json() == diagnose_path(path).model_dump_json(indent=2)


def test_diagnose_json_loads_no_server_stack_and_prints_the_problem() -> None:
    log = CORPUS / "py_missing_module_sklearn.log"
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=["diagnose", str(log), "--json"])],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    printed, modules = result.stdout.rsplit("MODULES:", 1)
    loaded = set(json.loads(modules))

    assert sorted(name for name in HEAVY if name in loaded) == []
    assert printed.rstrip("\n") == diagnose_path(log).model_dump_json(indent=2)
    assert json.loads(printed)["details"]["package"] == "scikit-learn"


def test_details_the_standard_encoder_would_spell_differently_go_through_pydantic() -> None:
    details = {"tiny": 1e-05, "huge": 1e20, "tests": ("a", "b"), "kinds": {"x"}, "category": Category.TIMEOUT}
    diagnosis = Diagnosis(Category.TIMEOUT, "step-timeout", details, (Cited(3, "Error: é\x1b"),), 0.5, "Run x")
    expected = diagnosis.to_problem().model_dump_json(indent=2)

    assert diagnosis.to_json() == expected
    assert isinstance(diagnosis.to_problem(), Problem)


def test_small_and_large_logs_keep_the_same_lines() -> None:
    """A small log's candidate lines are checked by an automaton, a large one's by the trie regex: same answer."""
    from mlops_bot.diagnosis.classifier import _PREFILTER, _automaton_search, _normalize

    lines = [
        _normalize(raw) for path in CORPUS.rglob("*.log") for raw in path.read_text("utf-8", "replace").split("\n")
    ]
    assert len(lines) > 10_000
    assert [line for line in lines if _automaton_search(line) is not None] == [
        line for line in lines if _PREFILTER.search(line) is not None
    ]
