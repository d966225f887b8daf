"""Look-alikes for the toolchain rules, posed with real lines from the training corpus (spliced).

Each test removes or keeps the one line that makes the difference, so the rule is shown to decide on
the cause line and not on the tool's name or boilerplate around it.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from mlops_bot.diagnosis import Category, diagnose_lines, diagnose_path, diagnose_zip

TRAINING = Path(__file__).resolve().parents[2] / "data" / "logs" / "toolchain"


def lines(name: str) -> list[str]:
    return (TRAINING / name).read_text(encoding="utf-8-sig").splitlines()


def without(source: list[str], *needles: str) -> list[str]:
    return [line for line in source if not any(needle in line for needle in needles)]


def test_a_lock_message_wrapped_over_three_lines_is_read_whole() -> None:
    problem = diagnose_path(TRAINING / "pipenv_deploy_stale.log")

    assert (problem.category, problem.kind) == (Category.DEPENDENCY_RESOLUTION, "lock-out-of-date")
    assert problem.details["refresh_command"] == "pipenv lock"
    assert [item.text.split(" ", 1)[0] for item in problem.evidence] == [
        "Your",
        "(9c08ec0f6a4e03ed5801b651cf0217193f017cff330f6575b9958e3300486ba6)",
        "date.",
    ]


def test_lock_files_named_in_passing_are_not_a_stale_lock() -> None:
    # The set-up step's "Updated Pipfile.lock" stays; only the message saying it is out of date goes.
    source = lines("pipenv_deploy_stale.log")
    start = next(i for i, line in enumerate(source) if "Your Pipfile.lock" in line)
    spliced = source[:start] + source[start + 3 :]

    assert any("Updated Pipfile.lock" in line for line in spliced)
    assert diagnose_lines(spliced).kind != "lock-out-of-date"


def test_enoent_is_a_missing_compiler_only_right_after_the_compiler_was_run() -> None:
    source = lines("sdist_no_compiler_clang.log")
    assert diagnose_lines(source).details["compiler"] == "clang-18"

    spliced = without(source, "  clang-18 -Wsign-compare")
    assert diagnose_lines(spliced).kind != "missing-compiler"


def test_a_missing_header_names_the_system_package_never_a_python_package() -> None:
    problem = diagnose_path(TRAINING / "sdist_missing_header_hdf5.log")

    assert problem.details["header"] == "hdf5.h"
    assert problem.details["system_package"] == "libhdf5-dev"
    assert "package" not in problem.details
    assert "note: This error originates from a subprocess" not in " ".join(e.text for e in problem.evidence)


def test_great_expectations_names_the_failing_expectation_not_a_passing_one() -> None:
    problem = diagnose_path(TRAINING / "ge_suite_one_failing.log")

    assert problem.details["expectation"] == "expect_column_values_to_be_between"
    assert problem.details["column"] == "score"


def test_a_pandera_lazy_report_cites_its_first_error_not_the_closing_brace() -> None:
    problem = diagnose_path(TRAINING / "pandera_model_isin_lazy.log")

    assert problem.details == {"library": "pandera", "column": "label", "check": "isin(['cat', 'dog'])"}
    assert all(item.text.strip() not in ("}", "{") for item in problem.evidence)
    assert "failure cases: cow" in problem.evidence[-1].text


def test_a_tox_session_is_diagnosed_by_what_failed_inside_it() -> None:
    inner = diagnose_path(TRAINING / "tox_pytest_assertion.log")
    assert (inner.category, inner.details["session"]) == (Category.TEST_FAILURE, "py")

    unknown_inside = diagnose_path(TRAINING / "tox3_script_keyerror.log")
    assert unknown_inside.kind == "session-failed"
    assert unknown_inside.details["exception"] == "KeyError"
    assert [item.text for item in unknown_inside.evidence] == ["KeyError: 'epochs'"]


def test_pre_commit_without_github_exit_line_still_names_the_hook() -> None:
    # pre-commit's own output, as a plain log (no GitHub step framing, so no exit line to go by).
    source = without(without(lines("precommit_pygrep_todo.log"), "Process completed with exit code"), "##[")

    problem = diagnose_lines(source)

    assert (problem.category, problem.kind) == (Category.LINT_FAILURE, "pre-commit-hook")
    assert problem.details["hook"] == "no-print"
    assert problem.details["files"] == ["src/debug.py"]


def test_a_passing_pre_commit_run_is_not_blamed_for_a_later_failure() -> None:
    source = lines("precommit_pygrep_todo.log")
    hook = next(i for i, line in enumerate(source) if "no print statements...." in line)
    source[hook] = source[hook].replace("Failed", "Passed")
    source = without(source, "- hook id: no-print", "- exit code: 1", "src/debug.py:")

    assert diagnose_lines(source).kind != "pre-commit-hook"


def _as_run_logs_zip(source: list[str]) -> bytes:
    """Split a job log at its ``##[group]Run`` lines into GitHub's per-step files, plus the job log."""
    steps: list[list[str]] = [[]]
    for line in source:
        if "##[group]Run " in line and steps[-1]:
            steps.append([])
        steps[-1].append(line)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("0_build.txt", "\ufeff" + "\n".join(source) + "\n")
        for number, step in enumerate(steps, start=1):
            archive.writestr(f"build/{number}_step{number}.txt", "\ufeff" + "\n".join(step) + "\n")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name",
    ["precommit_black_then_flake8.log", "tox3_pytest_failure.log", "papermill_zerodivision.log", "go_test_fatal.log"],
)
def test_a_run_logs_zip_gives_the_plain_logs_answer(name: str) -> None:
    plain = diagnose_path(TRAINING / name)

    zipped = diagnose_zip(io.BytesIO(_as_run_logs_zip(lines(name))))

    assert (zipped.category, zipped.kind) == (plain.category, plain.kind)
    assert [e.text for e in zipped.evidence] == [e.text for e in plain.evidence]
