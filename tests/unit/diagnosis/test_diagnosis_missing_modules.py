"""A missing module is a package to add only when it really is one (issue 14).

Each log below is the real message Python prints, framed as GitHub Actions does; the cases are the ones
that made the bot propose bogus packages: sub-modules of installed distributions, the repository's own
modules, namespace packages and tools run with ``python -m``.
"""

from __future__ import annotations

from mlops_bot.diagnosis import Category, Problem, diagnose_lines
from mlops_bot.diagnosis.confidence import would_open_fix_pr, write_threshold
from mlops_bot.diagnosis.local import local_names

WORKSPACE = "/home/runner/work/mlproj/mlproj"


def _log(command: str, *output: str) -> list[str]:
    return [
        f"##[group]Run {command}",
        command,
        "shell: /usr/bin/bash -e {0}",
        "##[endgroup]",
        *output,
        "##[error]Process completed with exit code 1.",
    ]


def _any_threshold_opens_pr(problem: Problem) -> bool:
    return any(would_open_fix_pr(problem, write_threshold(level)) for level in ("low", "medium", "high"))


def test_a_known_missing_distribution_is_a_dependency_fix() -> None:
    problem = diagnose_lines(
        _log(
            "python train.py",
            "Traceback (most recent call last):",
            f'  File "{WORKSPACE}/train.py", line 3, in <module>',
            "    from sklearn.linear_model import LogisticRegression",
            "ModuleNotFoundError: No module named 'sklearn'",
        )
    )

    assert (problem.category, problem.kind) == (Category.DEPENDENCY_MISSING, "missing-python-module")
    assert problem.details["package"] == "scikit-learn"
    assert would_open_fix_pr(problem, write_threshold("medium"))


def test_a_dotted_module_of_an_installed_distribution_is_a_version_problem() -> None:
    problem = diagnose_lines(
        _log(
            "python train.py",
            "Traceback (most recent call last):",
            f'  File "{WORKSPACE}/train.py", line 2, in <module>',
            "    from sklearn.externals import joblib",
            "ModuleNotFoundError: No module named 'sklearn.externals'",
        )
    )

    assert problem.category is Category.DEPENDENCY_RESOLUTION
    assert problem.kind == "python-module-moved"
    assert problem.details["distribution"] == "scikit-learn"
    assert problem.details["moved_module"] == "sklearn.externals"
    assert problem.details["package"] is None
    assert not _any_threshold_opens_pr(problem)
    assert problem.evidence[-1].text == "ModuleNotFoundError: No module named 'sklearn.externals'"


def test_the_repositorys_own_package_is_never_a_pypi_package() -> None:
    lines = _log(
        "pytest tests/",
        "ImportError while importing test module '/home/runner/work/mlproj/mlproj/tests/test_features.py'.",
        "tests/test_features.py:1: in <module>",
        "    from features import build",
        "E   ModuleNotFoundError: No module named 'features'",
        "=========================== short test summary info ============================",
        "ERROR tests/test_features.py",
        "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!",
        "=============================== 1 error in 0.12s ===============================",
    )
    without_tree = diagnose_lines(lines)
    with_tree = diagnose_lines(lines, own_packages=local_names(["src/features/__init__.py", "tests/test_x.py"]))

    assert without_tree.details["package"] == "features"  # a PyPI project of that name exists ...
    assert not _any_threshold_opens_pr(without_tree)  # ... but a guess from the import name never writes
    assert (with_tree.kind, with_tree.details["package"], with_tree.details["local"]) == (
        "missing-local-module",
        None,
        True,
    )
    assert not _any_threshold_opens_pr(with_tree)


def test_a_local_module_seen_in_the_tracebacks_workspace_frames_is_local() -> None:
    problem = diagnose_lines(
        _log(
            "python -m ourpkg.pipeline",
            "Traceback (most recent call last):",
            f'  File "{WORKSPACE}/ourpkg/pipeline.py", line 4, in <module>',
            "    from ourpkg.features import encode",
            "ModuleNotFoundError: No module named 'ourpkg.features'",
        )
    )

    assert problem.kind == "missing-local-module"
    assert problem.details["package"] is None
    assert not _any_threshold_opens_pr(problem)


def test_local_names_come_from_packages_modules_src_layout_and_project_metadata() -> None:
    names = local_names(
        [
            "utils.py",
            "setup.py",
            "src/ourpkg/__init__.py",
            "src/ourpkg/a/b.py",
            "tools/x.py",
            "README.md",
            "data/x.csv",
        ],
        {"pyproject.toml": '[project]\nname = "our-dist"\n', "setup.cfg": "[metadata]\nname = legacy.name\n"},
    )

    assert {"utils", "ourpkg", "tools", "our-dist", "our_dist", "legacy.name", "legacy_name"} <= names
    assert "data" not in names and "README" not in names


def test_a_top_level_namespace_maps_through_the_import_statement() -> None:
    problem = diagnose_lines(
        _log(
            "python serve.py",
            "Traceback (most recent call last):",
            f'  File "{WORKSPACE}/serve.py", line 1, in <module>',
            "    from google.protobuf import descriptor_pb2",
            "ModuleNotFoundError: No module named 'google'",
        )
    )

    assert problem.category is Category.DEPENDENCY_MISSING
    assert (problem.details["package"], problem.details["import_name"]) == ("protobuf", "google.protobuf")
    assert would_open_fix_pr(problem, write_threshold("medium"))


def test_namespace_portions_map_to_their_distribution() -> None:
    storage = diagnose_lines(
        _log(
            "python upload.py",
            "Traceback (most recent call last):",
            f'  File "{WORKSPACE}/upload.py", line 1, in <module>',
            "    from google.cloud import storage",
            "ModuleNotFoundError: No module named 'google.cloud.storage'",
        )
    )
    azure = diagnose_lines(
        _log(
            "python upload.py",
            "Traceback (most recent call last):",
            f'  File "{WORKSPACE}/upload.py", line 1, in <module>',
            "    from azure.storage.blob import BlobServiceClient",
            "ModuleNotFoundError: No module named 'azure.storage'",
        )
    )

    assert (storage.category, storage.details["package"]) == (Category.DEPENDENCY_MISSING, "google-cloud-storage")
    assert (azure.category, azure.details["package"]) == (Category.DEPENDENCY_MISSING, "azure-storage-blob")


def test_a_bare_namespace_without_an_import_statement_is_inconclusive() -> None:
    problem = diagnose_lines(_log("python serve.py", "ModuleNotFoundError: No module named 'google'"))

    assert problem.details["package"] is None
    assert problem.confidence < write_threshold("high")
    assert not _any_threshold_opens_pr(problem)


def test_a_tool_run_as_a_module_is_flagged_as_a_tool() -> None:
    problem = diagnose_lines(
        _log("python -m pytest tests/", "/opt/hostedtoolcache/Python/3.11.7/x64/bin/python: No module named pytest")
    )

    assert (problem.category, problem.kind) == (Category.DEPENDENCY_MISSING, "missing-python-tool")
    assert problem.details["package"] == "pytest"
    assert problem.details["tool"] is True
    assert problem.details["run_as"] == "python -m pytest"
    assert not _any_threshold_opens_pr(problem)


def test_an_unknown_module_name_is_a_guess_that_never_writes() -> None:
    problem = diagnose_lines(_log("python train.py", "ModuleNotFoundError: No module named 'zzmodel_helpers'"))

    assert problem.details["package_source"] == "module-name"
    assert not _any_threshold_opens_pr(problem)
    # ... and says so in the diagnosis itself, whatever a caller makes of its confidence.
    assert problem.details["fix_pr"] is False and "guess" in problem.details["no_fix_reason"]
