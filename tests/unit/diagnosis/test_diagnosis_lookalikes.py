"""Failures that look alike in a log but need different fixes are told apart.

The inputs are real corpus logs, sometimes spliced together (real lines, rearranged) to pose the
look-alike question directly: the same final error with and without the network errors before it.
"""

from __future__ import annotations

from pathlib import Path

from mlops_bot.diagnosis import Category, diagnose_lines, diagnose_path

CORPUS = Path(__file__).resolve().parents[2] / "data" / "logs"


def lines(name: str) -> list[str]:
    return (CORPUS / name).read_text(encoding="utf-8-sig").splitlines()


def without(source: list[str], *needles: str) -> list[str]:
    return [line for line in source if not any(needle in line for needle in needles)]


def test_no_matching_distribution_is_resolution_without_network_errors() -> None:
    problem = diagnose_path(CORPUS / "pip_no_matching_version.log")
    assert problem.category is Category.DEPENDENCY_RESOLUTION
    assert problem.kind == "pip-no-matching-distribution"
    assert problem.details["requirement"] == "torch==9.9.9"
    assert "2.13.0" in problem.details["available_versions"]


def test_no_matching_distribution_after_connection_refused_is_network() -> None:
    problem = diagnose_path(CORPUS / "pip_index_unreachable.log")
    assert problem.category is Category.NETWORK_TRANSIENT
    assert problem.details["requirement"] == "requests"
    assert any("Retrying (Retry(total=" in item.text for item in problem.evidence)


def test_the_retry_lines_alone_make_the_difference() -> None:
    unreachable = lines("pip_index_unreachable.log")
    assert diagnose_lines(without(unreachable, "Retrying (Retry(")).category is Category.DEPENDENCY_RESOLUTION

    pinned = lines("pip_no_matching_version.log")
    retry = next(line for line in unreachable if "Retrying (Retry(" in line)
    at = next(i for i, line in enumerate(pinned) if "Could not find a version" in line)
    spliced = [*pinned[:at], retry, *pinned[at:]]
    assert diagnose_lines(spliced).category is Category.NETWORK_TRANSIENT


def test_killed_with_exit_137_is_out_of_memory_not_a_test_failure() -> None:
    problem = diagnose_path(CORPUS / "pytest_oom_killed.log")
    assert problem.category is Category.OUT_OF_MEMORY
    assert problem.kind == "oom-killed"
    assert problem.details["exit_code"] == 137
    assert [item.text for item in problem.evidence][-1] == "Error: Process completed with exit code 137."


def test_exit_137_alone_points_at_memory_with_low_confidence() -> None:
    problem = diagnose_lines(without(lines("oom_killed.log"), " Killed "))
    assert problem.category is Category.OUT_OF_MEMORY
    assert problem.confidence <= 0.5
    assert problem.evidence[-1].text == "Error: Process completed with exit code 137."


def test_exit_124_points_at_the_step_timeout_command() -> None:
    problem = diagnose_path(CORPUS / "command_timeout.log")
    assert (problem.category, problem.kind) == (Category.TIMEOUT, "command-timeout")
    assert problem.details["limit"] == "1"
    assert problem.details["limit_seconds"] == 1.0
    assert problem.confidence < 0.8  # only the exit code says so


def test_job_timeout_is_timeout_although_the_log_ends_with_cancellation() -> None:
    problem = diagnose_path(CORPUS / "job_timeout.log")
    assert lines("job_timeout.log")[-1].endswith("##[error]The operation was canceled.")
    assert (problem.category, problem.kind) == (Category.TIMEOUT, "job-timeout")
    assert problem.details["limit"] == "360 minutes"


def test_runner_shutdown_and_lost_runner_are_infrastructure() -> None:
    assert diagnose_path(CORPUS / "runner_shutdown.log").kind == "runner-shutdown"
    lost = diagnose_path(CORPUS / "runner_lost.log")
    assert (lost.category, lost.kind) == (Category.INFRASTRUCTURE, "runner-lost")


def test_bare_cancellation_is_a_weak_infrastructure_guess() -> None:
    shutdown = without(lines("runner_shutdown.log"), "shutdown signal")
    problem = diagnose_lines(shutdown)
    assert (problem.category, problem.kind) == (Category.INFRASTRUCTURE, "cancelled")
    assert problem.confidence < 0.5


def test_disk_full_is_infrastructure_not_missing_data() -> None:
    problem = diagnose_path(CORPUS / "disk_full.log")
    assert (problem.category, problem.kind) == (Category.INFRASTRUCTURE, "disk-full")


def test_git_403_is_permission_but_refused_connection_is_network() -> None:
    push = diagnose_path(CORPUS / "git_push_403.log")
    clone = diagnose_path(CORPUS / "git_clone_unreachable.log")
    assert push.category is Category.PERMISSION_DENIED
    assert push.details["operation"] == "push"
    assert clone.category is Category.NETWORK_TRANSIENT


def test_missing_data_file_is_surer_than_a_missing_config_file() -> None:
    data = diagnose_path(CORPUS / "data_csv_missing.log")
    config = diagnose_path(CORPUS / "config_file_missing.log")
    assert data.category is config.category is Category.DATA_MISSING
    assert data.kind == config.kind == "file-not-found"
    assert (data.details["is_data"], config.details["is_data"]) == (True, False)
    assert data.confidence > config.confidence


def test_failing_tests_caused_by_a_missing_module_are_a_dependency_problem() -> None:
    missing = diagnose_path(CORPUS / "py_missing_module_cv2_pytest.log")
    assertion = diagnose_path(CORPUS / "pytest_assertion.log")
    assert missing.category is Category.DEPENDENCY_MISSING
    assert missing.details["tests"] == ["tests/test_preprocess.py::test_resize"]
    assert assertion.category is Category.TEST_FAILURE


def test_a_real_assertion_among_missing_modules_keeps_it_a_test_failure() -> None:
    missing = lines("py_missing_module_cv2_pytest.log")
    assertion = lines("pytest_assertion.log")
    start = next(i for i, line in enumerate(assertion) if "__ test_accuracy __" in line)
    end = next(i for i, line in enumerate(assertion) if line.endswith(": AssertionError"))
    at = next(i for i, line in enumerate(missing) if "short test summary info" in line)
    spliced = [*missing[:at], *assertion[start : end + 1], *missing[at:]]
    assert diagnose_lines(spliced).category is Category.TEST_FAILURE


def test_same_test_passing_and_failing_is_flaky_but_a_consistent_failure_is_not() -> None:
    flaky = diagnose_path(CORPUS / "pytest_flaky_repeat.log")
    exhausted = diagnose_path(CORPUS / "pytest_rerun_exhausted.log")
    assert flaky.category is Category.FLAKY_TEST
    assert exhausted.category is Category.TEST_FAILURE
    assert exhausted.details["counts"]["rerun"] == 2


def test_a_network_warning_in_an_earlier_step_does_not_hide_the_test_failure() -> None:
    problem = diagnose_path(CORPUS / "network_warning_then_test_failure.log")
    assert problem.category is Category.TEST_FAILURE
    assert problem.step == "Run pytest tests/"


def test_a_hit_before_the_failing_step_is_downgraded() -> None:
    warned = lines("network_warning_then_test_failure.log")
    unknown = lines("unknown_exit.log")
    second_step = max(i for i, line in enumerate(warned) if "##[group]Run " in line)
    failing_step = max(i for i, line in enumerate(unknown) if "##[group]Run " in line)
    spliced = [*warned[:second_step], *unknown[failing_step:]]

    problem = diagnose_lines(spliced)
    # The network warning was survived: the answer points into the step that failed instead.
    assert problem.category is Category.UNKNOWN
    assert problem.confidence < 0.5
    failing_line = failing_step + 1 + (second_step - failing_step)
    assert all(item.line > failing_line for item in problem.evidence)


def test_own_package_is_never_proposed_as_a_dependency() -> None:
    mine = diagnose_path(CORPUS / "py_missing_local_package.log", own_packages=("mlproj",))
    assert mine.kind == "missing-local-module"
    assert mine.details["package"] is None

    foreign = diagnose_path(CORPUS / "py_missing_local_package.log")
    assert foreign.kind == "missing-python-module"
    assert foreign.details["package"] == "mlproj"
    assert foreign.details["package_source"] == "module-name"


def test_unrecognised_failure_points_at_the_error_line_with_low_confidence() -> None:
    problem = diagnose_path(CORPUS / "unknown_exit.log")
    assert problem.category is Category.UNKNOWN
    assert problem.confidence <= 0.1
    texts = [item.text for item in problem.evidence]
    assert texts == [
        "validation accuracy 0.61 is below the threshold 0.80",
        "Error: Process completed with exit code 3.",
    ]


def test_a_passing_log_is_unknown_with_no_evidence() -> None:
    problem = diagnose_path(CORPUS / "success.log")
    assert problem.category is Category.UNKNOWN
    assert problem.evidence == []
    assert problem.confidence == 0.0
