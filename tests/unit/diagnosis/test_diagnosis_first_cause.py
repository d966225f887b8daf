"""The first cause wins (issue 14): steps are walked in order, in a plain log as in a run-logs zip.

A step that failed under ``continue-on-error`` (a pin that cannot install, a download that timed out)
explains what fails after it; inside one pytest run, a collection error comes before the FAILED lines.
Tool output here is real (pip against PyPI, pytest), framed as GitHub Actions frames it.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from mlops_bot.diagnosis import Category, Problem, diagnose_lines, diagnose_zip

FRAGMENTS = Path(__file__).resolve().parents[2] / "data" / "logs" / "fragments"
PIP_PIN = [
    "Collecting numpy==1.26.4",
    "  Using cached numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl.metadata (61 kB)",
    "ERROR: Could not find a version that satisfies the requirement torch==9.9.9 (from versions: 2.4.0, 2.5.1, 2.6.0)",
    "ERROR: No matching distribution found for torch==9.9.9",
]
TEST_IMPORT_ERROR = [
    "============================= test session starts ==============================",
    "collected 0 items / 1 error",
    "==================================== ERRORS ====================================",
    "_____________________ ERROR collecting tests/test_model.py ______________________",
    "tests/test_model.py:1: in <module>",
    "    import torch",
    "E   ModuleNotFoundError: No module named 'torch'",
    "=========================== short test summary info ============================",
    "ERROR tests/test_model.py",
    "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!!",
    "=============================== 1 error in 0.21s ===============================",
]
LINT = [
    "src/model.py:1:1: F401 [*] `os` imported but unused",
    "Found 1 error.",
    "[*] 1 fixable with the `--fix` option.",
]
CURL_TIMEOUT = ["curl: (28) Connection timed out after 10001 milliseconds"]
DATA_MISSING = [
    "Traceback (most recent call last):",
    '  File "/home/runner/work/mlproj/mlproj/train.py", line 4, in <module>',
    "FileNotFoundError: [Errno 2] No such file or directory: 'data/train.csv'",
]

Steps = list[tuple[str, list[str], int]]


def _step(name: str, output: list[str], code: int) -> list[str]:
    lines = [f"##[group]Run {name}", name, "shell: /usr/bin/bash -e {0}", "##[endgroup]", *output]
    if code:
        lines.append(f"##[error]Process completed with exit code {code}.")
    return lines


def _stamp(lines: list[str]) -> list[str]:
    return [f"2024-01-15T10:20:{30 + i // 1000:02d}.{i % 1000:03d}0000Z {line}" for i, line in enumerate(lines)]


def _plain(steps: Steps) -> list[str]:
    return _stamp([line for name, output, code in steps for line in _step(name, output, code)])


def _zip(steps: Steps) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("0_build.txt", "\ufeff" + "\n".join(_plain(steps)) + "\n")
        for number, (name, output, code) in enumerate(steps, start=1):
            member = name.replace("/", "_").replace(":", "")[:80]  # GitHub's file names for step titles
            archive.writestr(
                f"build/{number}_{member}.txt", "\ufeff" + "\n".join(_stamp(_step(name, output, code))) + "\n"
            )
    buffer.seek(0)
    return buffer


def _both(steps: Steps) -> tuple[Problem, Problem]:
    return diagnose_lines(_plain(steps)), diagnose_zip(_zip(steps))


def _verdict(problem: Problem) -> tuple[str, str, object]:
    return problem.category.value, problem.kind, problem.details.get("package") or problem.details.get("path")


def test_a_tolerated_pin_failure_is_the_cause_of_the_later_import_error() -> None:
    steps: Steps = [
        ("pip install -r requirements.txt", PIP_PIN, 1),
        ("pytest tests", TEST_IMPORT_ERROR, 2),
    ]

    plain, zipped = _both(steps)

    assert _verdict(plain) == ("dependency_resolution", "pip-no-matching-distribution", "torch")
    assert _verdict(zipped) == _verdict(plain)
    assert plain.details["later_failure"] == "dependency_missing/missing-python-module"
    assert plain.step == "Run pip install -r requirements.txt"
    assert plain.evidence[-1].text == "ERROR: No matching distribution found for torch==9.9.9"


def test_a_tolerated_download_timeout_is_the_cause_of_the_missing_data_file() -> None:
    steps: Steps = [
        ("curl -sSf -m 10 -o data/train.csv https://data.example.org/train.csv", CURL_TIMEOUT, 28),
        ("python train.py", DATA_MISSING, 1),
    ]

    plain, zipped = _both(steps)

    assert _verdict(plain) == ("network_transient", "connection-error", None)
    assert _verdict(zipped) == _verdict(plain)
    assert plain.details["later_failure"] == "data_missing/file-not-found"


def test_a_tolerated_lint_failure_does_not_explain_a_later_failure() -> None:
    steps: Steps = [("ruff check src", LINT, 1), ("python train.py", DATA_MISSING, 1)]

    plain, zipped = _both(steps)

    assert _verdict(plain) == ("data_missing", "file-not-found", "data/train.csv")
    assert _verdict(zipped) == _verdict(plain)


@pytest.mark.parametrize("steps", [[("pytest tests", TEST_IMPORT_ERROR, 2)], [("ruff check src", LINT, 1)]])
def test_one_failing_step_gives_the_same_answer_in_both_forms(steps: Steps) -> None:
    plain, zipped = _both(steps)

    assert _verdict(zipped) == _verdict(plain)
    assert plain.category is not Category.UNKNOWN


def test_a_collection_error_beats_the_failed_summary_of_the_same_run() -> None:
    output = (FRAGMENTS / "pytest_collection_then_failure.txt").read_text(encoding="utf-8").splitlines()

    problem = diagnose_lines(_plain([("pytest --continue-on-collection-errors tests", output, 1)]))

    assert (problem.category, problem.kind) == (Category.DEPENDENCY_MISSING, "missing-python-module")
    assert problem.details["module"] == "numpy_missing_zz"
    assert problem.details["collection_error"] is True
    assert problem.evidence[0].text == "E   ModuleNotFoundError: No module named 'numpy_missing_zz'"


def test_a_tolerated_network_failure_does_not_explain_a_later_assertion() -> None:
    assertion = [
        "tests/test_model.py F                                                    [100%]",
        "E       assert 0.71 >= 0.9",
        "FAILED tests/test_model.py::test_accuracy - assert 0.71 >= 0.9",
        "============================== 1 failed in 0.05s ===============================",
    ]
    steps: Steps = [("curl -sS -o cache.tar http://cache.local/warm", CURL_TIMEOUT, 28), ("pytest tests", assertion, 1)]

    plain, zipped = _both(steps)

    assert (plain.category, plain.kind) == (Category.TEST_FAILURE, "pytest-assertion")
    assert _verdict(zipped) == _verdict(plain)


def test_every_corpus_run_gives_the_same_answer_as_a_plain_log_and_as_a_zip() -> None:
    from mlops_bot.diagnosis import diagnose_path

    corpus = FRAGMENTS.parent
    pairs = [(zipped, zipped.with_suffix(".log")) for zipped in sorted(corpus.glob("py2_*.zip"))]
    assert len(pairs) >= 4
    for zipped, plain in pairs:
        assert _verdict(diagnose_path(zipped)) == _verdict(diagnose_path(plain)), zipped.name
        assert diagnose_path(zipped).details.get("first_cause") == diagnose_path(plain).details.get("first_cause")
