"""Platform-message rules after their repetitions were bounded (linear time: bench/bench_diagnosis_hostile.py).

GitHub's messages still match with the runner's name; lines built from the markers alone still
do not.
"""

from __future__ import annotations

from mlops_bot.diagnosis import Category
from mlops_bot.diagnosis.classifier import diagnose_lines


def test_a_job_timeout_names_its_runner() -> None:
    line = (
        "##[error]The job running on runner GitHub Actions 1000001234"
        " has exceeded the maximum execution time of 30 minutes."
    )
    problem = diagnose_lines(["Run pytest", line])
    assert (problem.category, problem.kind) == (Category.TIMEOUT, "job-timeout")
    assert problem.details["runner"] == "GitHub Actions 1000001234"


def test_a_lost_self_hosted_runner_with_a_long_name_is_recognised() -> None:
    name = "gpu-runner-" + "x" * 100
    line = f"##[error]The self-hosted runner: {name} lost communication with the server. Verify the machine is running."
    problem = diagnose_lines(["Run pytest", line])
    assert (problem.category, problem.kind) == (Category.INFRASTRUCTURE, "runner-lost")


def test_lines_of_repeated_markers_are_not_a_diagnosis() -> None:
    lines = ["Run pytest", "The self-hosted runner: " * 600, "The job running on runner " * 600, "a" * 16_000]
    assert diagnose_lines(lines).kind not in {"runner-lost", "job-timeout"}


def test_passed_tests_are_still_collected_by_their_node_id() -> None:
    from mlops_bot.diagnosis.classifier import _PASSED

    ids = []
    for line in [
        "tests/test_a.py::TestC::test_y[a:b] PASSED [ 50%]",
        "PASSED tests/t.py::test_z - reason",
        "foo PASSED",
        "a:: PASSED",
        ":" * 16_000 + " NOT PASSED",
    ]:
        found = _PASSED.match(line)
        ids.append(found and (found["id"] or found["id2"]))
    assert ids == ["tests/test_a.py::TestC::test_y[a:b]", "tests/t.py::test_z", None, None, None]
