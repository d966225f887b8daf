"""The fresh blind corpora (tests/data/logs/fresh ... fresh5): never a fix PR their labels rule out.

Those logs were made by running real tools in scenarios no other corpus held, and labelled before the
rules were read; `bench/bench_diagnosis_families.py` measures accuracy on them. What is asserted here is
the promise a user relies on whatever the accuracy: the bot opens no fix PR a person would reject — not
for a package a build backend needs, a private npm scope, a CUDA build from another index — and, when it
names the one package a PR may add, it names that one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_bot.diagnosis import Category, diagnose_path, would_open_fix_pr, write_threshold

LOGS = Path(__file__).resolve().parents[2] / "data" / "logs"
FRESH = LOGS / "fresh"
LABELS: dict[str, dict[str, Any]] = {
    f"{folder.name}/{log}": label
    for folder in (FRESH, *(LOGS / f"fresh{n}" for n in range(2, 6)))
    for log, label in json.loads((folder / "labels.json").read_text(encoding="utf-8")).items()
}


@pytest.mark.parametrize("log", sorted(LABELS))
def test_no_fix_pr_the_label_rules_out(log: str) -> None:
    label = LABELS[log]
    problem = diagnose_path(LOGS / log)

    opens = would_open_fix_pr(problem, write_threshold("high"))

    assert not (opens and not label["fix_pr_ok"]), problem.details
    wanted = label["details"].get("package")
    if opens and wanted:
        assert str(problem.details.get("package")).lower() == wanted.lower()


@pytest.mark.parametrize(
    ("log", "blocked"),
    [
        ("f_pip_build_backend_unavailable.log", "build-system"),
        ("f_npm_private_package_404.log", "registry"),
        ("f_pip_cuda_local_version.log", "local version"),
    ],
)
def test_a_cause_no_pin_or_requirement_fixes_says_why(log: str, blocked: str) -> None:
    problem = diagnose_path(FRESH / log)

    assert problem.details.get("fix_pr") is False
    assert blocked in problem.details["no_fix_reason"]
    if problem.category is Category.DEPENDENCY_MISSING:
        assert problem.details.get("package") is None  # a build requirement is named, not offered as a package


def test_a_project_folder_is_never_a_package_to_add() -> None:
    problem = diagnose_path(FRESH / "f_import_local_src_cwd.log")

    assert problem.kind == "missing-local-module"
    assert problem.details["package"] is None


# Each class the fresh corpus showed unrecognised, checked on *other* real messages of the same class
# (other tools, other packages, older releases' wording) so the rule is the class, not the one message.
@pytest.mark.parametrize(
    ("lines", "category", "kind"),
    [
        (
            ["ImportError: libGL.so.1: cannot open shared object file: No such file or directory"],
            "dependency_missing",
            "missing-system-library",
        ),
        (
            ["ImportError: Missing optional dependency 'tabulate'.  Use pip or conda to install tabulate."],
            "dependency_missing",
            "missing-python-module",
        ),
        (
            ["AttributeError: module 'pandas' has no attribute 'np'"],
            "dependency_resolution",
            "python-attribute-removed",
        ),
        (
            [
                "RuntimeError: module compiled against ABI version 0x1000009 but this version of numpy is 0x2000000",
                "ImportError: numpy.core.multiarray failed to import",
            ],
            "dependency_resolution",
            "binary-incompatible",
        ),
        (
            ["tomllib.TOMLDecodeError: Expected '=' after a key in a key/value pair (at line 3, column 9)"],
            "syntax_error",
            "config-syntax-error",
        ),
        (
            ["yaml.parser.ParserError: while parsing a block mapping", '  in "params.yaml", line 1, column 1'],
            "syntax_error",
            "config-syntax-error",
        ),
        (["urllib.error.HTTPError: HTTP Error 401: Unauthorized"], "permission_denied", "http-401"),
        (
            ["requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://example.org/x"],
            "permission_denied",
            "http-403",
        ),
        (
            ["src/kernels/conv.cpp:12:3: error: 'vector' was not declared in this scope"],
            "syntax_error",
            "c-compile-error",
        ),
        (
            [
                "error[E0425]: cannot find value `x` in this scope",
                "error: could not compile `svc` (lib) due to 1 previous error",
            ],
            "syntax_error",
            "rust-compile-error",
        ),
        (
            ["ERROR: Hashes are required in --require-hashes mode, but they are missing from some requirements."],
            "dependency_resolution",
            "pip-hash-mismatch",
        ),
        (
            ["ERROR: Package 'torch' requires a different Python: 3.8.18 not in '>=3.9.0'"],
            "dependency_resolution",
            "requires-python",
        ),
        (["pytest: error: unrecognized arguments: -n 4"], "dependency_missing", "pytest-plugin-missing"),
        (
            ["make[1]: *** No rule to make target 'models/encoder.onnx', needed by 'serve'.  Stop."],
            "data_missing",
            "file-not-found",
        ),
        (["jupyter_client.kernelspec.NoSuchKernel: No such kernel named ir"], "infrastructure", "kernel-missing"),
        (["Coverage failure: total of 71 is less than fail-under=80"], "test_failure", "coverage-threshold"),
    ],
)
def test_a_class_of_failure_not_one_message(lines: list[str], category: str, kind: str) -> None:
    from mlops_bot.diagnosis import diagnose_lines

    problem = diagnose_lines(lines)

    assert (problem.category.value, problem.kind) == (category, kind)
    if kind == "missing-python-module":  # an optional dependency pandas names: the one PR that fits
        assert problem.details["package"] == "tabulate"
    else:
        assert not would_open_fix_pr(problem, write_threshold("high"))


def test_a_framework_warning_about_an_absent_library_is_not_the_failure() -> None:
    from mlops_bot.diagnosis import diagnose_lines

    line = (
        "2026-03-02 09:00:01.123456: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load"
        " dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file"
    )

    assert diagnose_lines([line]).kind != "missing-system-library"


def test_a_secret_the_step_did_not_get_is_a_credentials_problem_a_dict_key_is_not() -> None:
    from mlops_bot.diagnosis import diagnose_lines

    env = ['  File "<frozen os>", line 679, in __getitem__', "KeyError: 'WANDB_API_KEY'"]
    row = ["    return row['API_KEY']", "KeyError: 'API_KEY'"]

    assert diagnose_lines(env).kind == "missing-secret"
    assert diagnose_lines(row).category is not Category.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("lines", "category", "kind"),
    [
        (
            ["fatal: Authentication failed for 'https://github.com/acme/private-data.git/'"],
            "permission_denied",
            "git-auth",
        ),
        (
            [
                "E   ImportError: cannot import name 'Trainer' from partially initialized module 'mlproj.train'"
                " (most likely due to a circular import)"
            ],
            "test_failure",
            "circular-import",
        ),
        (["Extra data: line 2 column 1 (char 12)"], "syntax_error", "config-syntax-error"),
        (
            [
                "Traceback (most recent call last):",
                '  File "/home/runner/work/x/x/check.py", line 3, in <module>',
                "AssertionError",
            ],
            "test_failure",
            "python-assertion",
        ),
    ],
)
def test_more_classes_on_other_messages(lines: list[str], category: str, kind: str) -> None:
    from mlops_bot.diagnosis import diagnose_lines

    problem = diagnose_lines(lines)

    assert (problem.category.value, problem.kind) == (category, kind)
    assert not would_open_fix_pr(problem, write_threshold("high"))


def test_a_plugin_fixture_is_a_missing_plugin_a_project_fixture_a_test_error() -> None:
    from mlops_bot.diagnosis import diagnose_lines

    def run(fixture: str) -> list[str]:
        return [
            "____________ ERROR at setup of test_speed ____________",
            f"E       fixture '{fixture}' not found",
            "=========================== short test summary info ============================",
            "ERROR tests/test_speed.py::test_speed",
            "1 error in 0.05s",
        ]

    plugin = diagnose_lines(run("benchmark"))
    own = diagnose_lines(run("trained_model"))

    assert (plugin.kind, plugin.details["plugin"], plugin.details["package"]) == (
        "pytest-plugin-missing",
        "pytest-benchmark",
        None,
    )
    assert own.category is Category.TEST_FAILURE


def test_a_module_named_like_the_repository_is_its_own_package_not_yet_installed() -> None:
    from mlops_bot.diagnosis import diagnose_lines

    lines = [
        "Syncing repository: acme/churn-model",
        "ImportError while loading conftest '/home/runner/work/churn-model/churn-model/tests/conftest.py'.",
        "E   ModuleNotFoundError: No module named 'churn_model'",
    ]

    problem = diagnose_lines(lines)

    assert (problem.kind, problem.details["package"], problem.details["local_evidence"]) == (
        "missing-local-module",
        None,
        "repository-name",
    )


def test_a_git_extension_missing_from_the_image_is_a_command_to_install() -> None:
    from mlops_bot.diagnosis import diagnose_lines

    problem = diagnose_lines(["git: 'crypt' is not a git command. See 'git --help'."])

    assert (problem.category, problem.kind, problem.details["command"]) == (
        Category.DEPENDENCY_MISSING,
        "missing-command",
        "git-crypt",
    )


def test_every_test_refused_by_one_service_is_the_service_one_assertion_keeps_it_a_test_failure() -> None:
    from mlops_bot.diagnosis import diagnose_lines

    def run(second: str) -> list[str]:
        return [
            "E   requests.exceptions.ConnectionError: HTTPConnectionPool(host='db', port=5432): Connection refused",
            f"E   {second}",
            "=========================== short test summary info ============================",
            "FAILED tests/test_db.py::test_a - requests.exceptions.ConnectionError",
            "FAILED tests/test_db.py::test_b",
            "2 failed in 0.30s",
        ]

    assert diagnose_lines(run("ConnectionRefusedError: [Errno 111] Connection refused")).category is (
        Category.NETWORK_TRANSIENT
    )
    assert diagnose_lines(run("assert 3 == 4")).category is Category.TEST_FAILURE


def test_an_import_error_a_program_logged_and_survived_is_not_its_failure() -> None:
    from mlops_bot.diagnosis import diagnose_lines

    logged = [
        "WARNING:trainer:TensorBoard logging disabled",
        "Traceback (most recent call last):",
        '  File "/home/runner/work/x/x/trainer.py", line 3, in <module>',
        "    from torch.utils.tensorboard import SummaryWriter",
        "ModuleNotFoundError: No module named 'tensorboard'",
        "epoch 1: loss=0.41",
        "Traceback (most recent call last):",
        '  File "/home/runner/work/x/x/trainer.py", line 40, in <module>',
        "KeyError: 'val_loss'",
    ]
    chained = [
        "Traceback (most recent call last):",
        "ModuleNotFoundError: No module named 'tensorboard'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        "RuntimeError: TensorBoard logging requires tensorboard to be installed",
    ]

    survived = diagnose_lines(logged)
    assert survived.category is Category.UNKNOWN
    assert survived.evidence[-1].text == "KeyError: 'val_loss'"
    assert diagnose_lines(chained).details.get("package") == "tensorboard"


def test_native_tracebacks_of_two_tests_missing_one_module_are_that_module() -> None:
    from mlops_bot.diagnosis import diagnose_lines

    def failure(test: str) -> list[str]:
        return [
            f"_________________________________ {test} _________________________________",
            "Traceback (most recent call last):",
            '  File "/home/runner/work/x/x/tests/test_io.py", line 4, in ' + test,
            "    import yaml",
            "ModuleNotFoundError: No module named 'yaml'",
        ]

    lines = [
        "=================================== FAILURES ===================================",
        *failure("test_a"),
        *failure("test_b"),
        "=========================== short test summary info ============================",
        "FAILED tests/test_io.py::test_a - ModuleNotFoundError: No module named 'yaml'",
        "FAILED tests/test_io.py::test_b - ModuleNotFoundError: No module named 'yaml'",
        "2 failed in 0.12s",
    ]

    assert diagnose_lines(lines).details.get("package") == "PyYAML"
