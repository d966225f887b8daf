"""Python-side tools and messages the diagnosis knows (issue 14): resolvers, pylint, pytest plugins,
Docker on runners, pip's EACCES. The evidence is the line stating the cause, never trailing boilerplate.

Fragments in tests/data/logs/fragments are real output of the tools run here; Docker and conda messages
(no daemon or conda on this machine) are their documented wording.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_bot.diagnosis import Category, Problem, diagnose_lines
from mlops_bot.diagnosis.confidence import would_open_fix_pr, write_threshold

FRAGMENTS = Path(__file__).resolve().parents[2] / "data" / "logs" / "fragments"


def _run(command: str, output: list[str], code: int = 1) -> Problem:
    lines = [f"##[group]Run {command}", command, "shell: /usr/bin/bash -e {0}", "##[endgroup]", *output]
    return diagnose_lines([*lines, f"##[error]Process completed with exit code {code}."])


def _fragment(name: str, command: str, code: int = 1) -> Problem:
    return _run(command, (FRAGMENTS / name).read_text(encoding="utf-8").splitlines(), code)


def test_uv_missing_version_names_the_requirement() -> None:
    problem = _fragment("uv_no_version.txt", "uv pip compile requirements.txt")

    assert (problem.category, problem.kind) == (Category.DEPENDENCY_RESOLUTION, "uv-unsatisfiable")
    assert (problem.details["package"], problem.details["requirement"]) == ("torch", "torch==9.9.9")
    assert problem.evidence[0].text.strip().startswith("cause: Because there is no version of torch==9.9.9")


def test_uv_conflict_names_the_constraints() -> None:
    problem = _fragment("uv_conflict.txt", "uv pip compile requirements.txt --python-version 3.11")

    assert problem.kind == "uv-unsatisfiable"
    assert problem.details["requested"] == ["pandas==2.2.0", "numpy==1.20.0"]
    assert problem.evidence[-1].text.strip().endswith("your requirements are unsatisfiable.")


def test_poetry_version_solving_failure() -> None:
    problem = _fragment("poetry_no_match.txt", "poetry lock")

    assert (problem.category, problem.kind) == (Category.DEPENDENCY_RESOLUTION, "poetry-version-solving")
    assert problem.details["package"] == "requests"
    assert "version solving failed" in problem.evidence[0].text


@pytest.mark.parametrize(
    ("output", "spec"),
    [
        (
            [
                "PackagesNotFoundError: The following packages are not available from current channels:",
                "",
                "  - pytorch==9.9",
                "",
                "Current channels:",
            ],
            "pytorch==9.9",
        ),
        (
            [
                "error    libmamba Could not solve for environment specs",
                "    The following package could not be installed",
                "    └─ numpy ==9.9 does not exist (perhaps a typo or a missing channel).",
                "critical libmamba Could not solve for environment specs",
            ],
            None,
        ),
    ],
)
def test_conda_and_mamba_solve_errors(output: list[str], spec: str | None) -> None:
    problem = _run("conda env create -f environment.yml", output)

    assert (problem.category, problem.kind) == (Category.DEPENDENCY_RESOLUTION, "conda-solve")
    assert problem.details.get("requirement") == spec


def test_pylint_report() -> None:
    problem = _fragment("pylint.txt", "pylint src", code=22)

    assert (problem.category, problem.kind) == (Category.LINT_FAILURE, "pylint")
    assert problem.details["files"] == ["src/mod.py"]
    assert "E0602" in problem.details["codes"]


def test_pytest_timeout_thread_method() -> None:
    problem = _fragment("pytest_timeout_thread.txt", "pytest --timeout=1 --timeout-method=thread tests/test_slow.py")

    assert (problem.category, problem.kind) == (Category.TIMEOUT, "pytest-timeout")
    assert problem.details["method"] == "thread"
    assert problem.details["limit_seconds"] == 1.0
    assert problem.details["tests"] == ["tests/test_slow.py"]


def test_pytest_timeout_signal_method() -> None:
    output = [
        "tests/test_slow.py F                                                       [100%]",
        "E       Failed: Timeout (>1.0s) from pytest-timeout.",
        "FAILED tests/test_slow.py::test_slow - Failed: Timeout (>1.0s) from pytest-ti...",
        "============================== 1 failed in 1.09s ===============================",
    ]
    problem = _run("pytest --timeout=1 tests", output)

    assert (problem.category, problem.details["method"]) == (Category.TIMEOUT, "signal")


def test_rerunfailures_fail_on_flaky_is_a_flaky_test() -> None:
    problem = _fragment("pytest_rerun_fail_on_flaky.txt", "pytest --reruns 2 --fail-on-flaky -v tests", code=7)

    assert (problem.category, problem.kind) == (Category.FLAKY_TEST, "pytest-rerun-passed")
    assert problem.details["flaky_tests"] == ["tests/test_flaky.py::test_sometimes"]
    assert would_open_fix_pr(problem, write_threshold("medium"))


def test_flaky_plugin_report_of_a_test_that_passed_then_failed() -> None:
    problem = _fragment("flaky_plugin.txt", "pytest tests/test_flaky3.py")

    assert (problem.category, problem.kind) == (Category.FLAKY_TEST, "flaky-plugin")
    assert problem.details["flaky_tests"] == ["tests/test_flaky3.py::test_gpu_queue"]


def test_pip_errno_13_is_a_permission_problem_with_the_path() -> None:
    problem = _fragment("pip_errno13.txt", "pip install six")

    assert (problem.category, problem.kind) == (Category.PERMISSION_DENIED, "pip-permission-denied")
    assert problem.details["path"].endswith("site-packages/six.py")
    assert problem.evidence[-1].text.startswith("ERROR: Could not install packages due to an OSError")


@pytest.mark.parametrize(
    ("line", "category", "kind"),
    [
        (
            "docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
            Category.INFRASTRUCTURE,
            "docker-daemon-unavailable",
        ),
        (
            "Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the"
            " limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
            Category.INFRASTRUCTURE,
            "registry-rate-limit",
        ),
        (
            "Error response from daemon: pull access denied for acme/trainer, repository does not exist or may"
            " require 'docker login': denied: requested access to the resource is denied",
            Category.PERMISSION_DENIED,
            "docker-pull-denied",
        ),
        (
            "Error response from daemon: manifest for python:3.99-slim not found: manifest unknown: manifest unknown",
            Category.DEPENDENCY_RESOLUTION,
            "docker-image-not-found",
        ),
        (
            'Error response from daemon: Get "https://ghcr.io/v2/acme/trainer/manifests/latest": unauthorized:'
            " authentication required",
            Category.PERMISSION_DENIED,
            "registry-unauthorized",
        ),
    ],
)
def test_docker_daemon_and_registry_errors(line: str, category: Category, kind: str) -> None:
    problem = _run("docker pull acme/trainer", [line], code=1)

    assert (problem.category, problem.kind) == (category, kind)
    assert not would_open_fix_pr(problem, write_threshold("high"))


def test_evidence_skips_trailing_boilerplate() -> None:
    output = [
        "  error: subprocess-exited-with-error",
        "  \u00d7 python setup.py egg_info did not run successfully.",
        "  │ exit code: 1",
        "  ╰─> [1 lines of output]",
        "      error: Microsoft Visual C++ 14.0 or greater is required.",
        "      [end of output]",
        "  note: This error originates from a subprocess, and is likely not a problem with pip.",
        "}",
    ]
    problem = _run("pip install -r requirements.txt", output)

    # The toolchain rules name the cause (a compiler the sdist build needs); never a package to add.
    assert problem.evidence[0].text.strip() == "error: Microsoft Visual C++ 14.0 or greater is required."
    assert not would_open_fix_pr(problem, write_threshold("high"))
    assert "note: This error originates" not in problem.evidence[0].text
    assert problem.evidence[0].text.strip() not in ("}", "")


def test_poetry_package_version_not_found() -> None:
    problem = _fragment("poetry_package_not_found.txt", "poetry lock")

    assert (problem.category, problem.kind) == (Category.DEPENDENCY_RESOLUTION, "poetry-package-not-found")
    assert (problem.details["package"], problem.details["version"]) == ("numpy", "1.20.0")
