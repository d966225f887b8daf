"""Grow the corpus with Python-side failures made by running the real tools (issue 14).

Same method as ``generate.py`` (whose framing this reuses): every tool line is real output captured
here — pip, uv and poetry against PyPI, pytest with pytest-timeout, pytest-rerunfailures and flaky,
pylint, Python tracebacks, pip refused by file permissions (run as ``nobody`` through ``setpriv``),
curl against a closed loopback port. Only the GitHub Actions framing is written by this script.

Real-run noise is added the way it appears in real jobs: long successful set-up steps (pip reporting
what is already installed, ``pip list``), a warm-up script logging ISO timestamps, warnings and caught
exceptions that look like errors, forced ANSI colour (``FORCE_COLOR``/``--color=yes``), CRLF line ends
(logs saved from Windows tooling), and the byte-order mark GitHub puts at the start of every log.

Each case's expected label says the category, kind, details subset, the tool ``family`` and
``fix_pr``: whether a fix PR is an acceptable answer (false: the bot must open an issue at most).

Usage (from the repository root; needs PyPI)::

    python tests/data/logs/generate_python.py [--scratch /tmp/mlops-bot-corpus-py] [--only CASE ...]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate as base  # noqa: E402  (the sibling generator: framing, clock, step runner)

TOOLS = (
    "pip==26.3",
    "pytest==9.2.0",
    "pytest-timeout==2.4.0",
    "pytest-rerunfailures==16.7",
    "flaky==3.8.1",
    "pylint==4.1.4",
    "uv==0.13.9",
    "poetry==2.5.1",
    "requests==2.34.2",
)
INI = "[pytest]\naddopts = -p no:cacheprovider\n"
COLOR = {"FORCE_COLOR": "1", "PY_COLORS": "1", "CLICOLOR_FORCE": "1"}
WORKSPACE = "/home/runner/work/mlproj/mlproj"

WARMUP = """\
import logging
import warnings

logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
log = logging.getLogger("warmup")
for shard in range(1, 41):
    log.info("cache shard %d/40 ok (%d items)", shard, shard * 1024)
try:
    import ujson  # optional speed-up
except ModuleNotFoundError as exc:
    log.warning("optional dependency missing, falling back to json: %s", exc)
try:
    raise ConnectionError("Connection reset by peer while fetching https://cache.internal/feature-store")
except ConnectionError:
    log.exception("ERROR fetching remote cache, retrying from local copy")
warnings.warn("pkg_resources is deprecated as an API", DeprecationWarning, stacklevel=1)
warnings.warn("FutureWarning: default of observed will change", FutureWarning, stacklevel=1)
log.error("metrics endpoint returned 503, will report later")
log.info("warm-up done")
"""


@dataclass
class Tolerated(base.Step):
    """A step with ``continue-on-error: true``: its failure does not stop the job."""

    continue_on_error: bool = True


@dataclass
class PyCase:
    name: str
    family: str
    steps: list[base.Step]
    expected: dict[str, Any]
    fix_pr: bool
    files: dict[str, str] = field(default_factory=dict)
    noise: bool = True  # long set-up steps and a warm-up with look-alike errors before the steps
    crlf: bool = False
    color: bool = False
    own_packages: list[str] = field(default_factory=list)
    zip: bool = False


def _install_noise() -> list[base.Step]:
    return [
        base.Step("Install dependencies", "python -m pip install -r requirements-ci.txt\npython -m pip list"),
        base.Step("Warm caches", "python ci/warmup.py"),
    ]


def expect(category: str, kind: str, **details: Any) -> dict[str, Any]:
    return {"category": category, "kind": kind, "details": details}


def _script(body: str) -> dict[str, str]:
    return {"train.py": body}


def _tests(body: str, name: str = "tests/test_model.py") -> dict[str, str]:
    return {"pytest.ini": INI, name: body}


def _missing(name: str, module_line: str, package: str | None, *, pytest: bool = False, **kw: Any) -> PyCase:
    """A script (or a test) importing something absent."""
    kind = kw.pop("kind", "missing-python-module")
    category = kw.pop("category", "dependency_missing")
    fix_pr = kw.pop("fix_pr", package is not None)
    details = kw.pop("details", {"package": package})
    if pytest:
        files = _tests(f"{module_line}\n\n\ndef test_fit():\n    assert True\n")
        steps = [base.Step("Test", "pytest tests" + (" --color=yes" if kw.get("color") else ""))]
    else:
        files = _script(f'"""Train the model."""\nimport json\n\n{module_line}\n\nprint(json.dumps({{}}))\n')
        steps = [base.Step("Train", "python train.py")]
    return PyCase(name, "python-import", steps, expect(category, kind, **details), fix_pr, files, **kw)


def cases() -> list[PyCase]:
    out: list[PyCase] = [
        # -- missing modules a package really fixes
        _missing("py2_missing_sklearn", "from sklearn.linear_model import LogisticRegression", "scikit-learn"),
        _missing("py2_missing_cv2_pytest_color", "import cv2", "opencv-python", pytest=True, color=True),
        _missing("py2_missing_yaml_crlf", "import yaml", "PyYAML", crlf=True),
        _missing("py2_missing_pandas_pytest", "import pandas as pd", "pandas", pytest=True),
        _missing("py2_missing_torch", "import torch", "torch", noise=False),
        _missing("py2_missing_pil", "from PIL import Image", "Pillow"),
        _missing("py2_missing_bs4_pytest", "from bs4 import BeautifulSoup", "beautifulsoup4", pytest=True),
        _missing("py2_missing_dateutil", "from dateutil import parser", "python-dateutil", crlf=True),
        _missing("py2_missing_dotenv", "from dotenv import load_dotenv", "python-dotenv", noise=False),
        _missing("py2_missing_jwt_pytest_color", "import jwt", "PyJWT", pytest=True, color=True),
        _missing("py2_missing_jsonschema", "import jsonschema", "jsonschema"),
        # -- namespaces, through the import statement
        _missing("py2_namespace_protobuf", "from google.protobuf import descriptor_pb2", "protobuf"),
        _missing("py2_namespace_protobuf_pytest", "from google.protobuf import json_format", "protobuf", pytest=True),
        _missing("py2_namespace_gcs", "import google.cloud.storage", "google-cloud-storage"),
        _missing("py2_namespace_azure_blob", "from azure.storage.blob import BlobServiceClient", "azure-storage-blob"),
        _missing("py2_namespace_mpl_toolkits", "from mpl_toolkits.mplot3d import Axes3D", "matplotlib", crlf=True),
        _missing(
            "py2_namespace_google_cloud_inconclusive",
            "from google.cloud import storage",
            None,
            kind="missing-namespace-module",
            details={"package": None, "module": "google"},
        ),
        # -- guesses and local modules: never a PR
        _missing(
            "py2_unknown_module_guess",
            "from zz_feature_store import client",
            "zz_feature_store",
            fix_pr=False,
            details={"package": "zz_feature_store", "package_source": "module-name"},
        ),
        _missing(
            "py2_renamed_local_utils",
            "from utils import load_config",
            "utils",
            pytest=True,
            fix_pr=False,
            details={"package": "utils", "package_source": "module-name"},
        ),
        PyCase(
            "py2_local_src_layout_not_installed",
            "python-import",
            [base.Step("Test", "pytest tests")],
            expect("dependency_missing", "missing-local-module", package=None, local=True),
            False,
            {
                "pytest.ini": INI,
                "src/mlproj/__init__.py": "",
                "src/mlproj/data.py": "def load():\n    return []\n",
                "tests/test_data.py": "from mlproj.data import load\n\n\ndef test_load():\n    assert load() == []\n",
            },
            own_packages=["mlproj"],
        ),
        PyCase(
            "py2_local_subpackage_traceback",
            "python-import",
            [base.Step("Pipeline", "python -m ourpkg.pipeline")],
            expect("dependency_missing", "missing-local-module", package=None, local=True),
            False,
            {
                "ourpkg/__init__.py": "",
                "ourpkg/pipeline.py": "from ourpkg.features import encode\n\nprint(encode([1]))\n",
            },
        ),
        # -- a sub-module of an installed distribution: a version problem
        _missing(
            "py2_moved_urllib3_appengine",
            "import urllib3.contrib.appengine",
            None,
            category="dependency_resolution",
            kind="python-module-moved",
            details={"distribution": "urllib3", "moved_module": "urllib3.contrib.appengine", "package": None},
        ),
        _missing(
            "py2_moved_requests_submodule_pytest",
            "import requests.packages.chardet_legacy",
            None,
            pytest=True,
            category="dependency_resolution",
            kind="python-module-moved",
            details={"distribution": "requests", "package": None},
        ),
        _missing(
            "py2_import_name_packaging",
            "from packaging.version import LegacyVersion",
            None,
            category="dependency_resolution",
            kind="python-import-name-error",
            details={"module": "packaging.version", "name": "LegacyVersion"},
        ),
        # -- tools run as modules
        *(
            PyCase(
                f"py2_tool_module_{tool}",
                "python-tool",
                [base.Step("Lint", f"python -m {tool} {args}")],
                expect("dependency_missing", "missing-python-tool", package=package, tool=True),
                False,
                {"src/metrics.py": "def f(x):\n    return x\n"},
                crlf=tool == "mypy",
            )
            for tool, args, package in (
                ("black", "--check src", "black"),
                ("mypy", "src", "mypy"),
                ("ruff", "check src", "ruff"),
                ("flake8", "src", "flake8"),
            )
        ),
        # -- pip, uv, poetry against PyPI
        PyCase(
            "py2_pip_no_version_torch",
            "pip",
            [base.Step("Install", "python -m pip install torch==1.0.0")],
            expect("dependency_resolution", "pip-no-matching-distribution", package="torch"),
            True,
        ),
        PyCase(
            "py2_pip_no_version_sklearn_crlf",
            "pip",
            [base.Step("Install", "python -m pip install -r requirements.txt")],
            expect("dependency_resolution", "pip-no-matching-distribution", package="scikit-learn"),
            True,
            {"requirements.txt": "requests==2.33.1\nscikit-learn==0.0.99\n"},
            crlf=True,
        ),
        PyCase(
            "py2_pip_resolution_conflict",
            "pip",
            [base.Step("Install", "python -m pip install --dry-run -r requirements.txt")],
            expect("dependency_resolution", "pip-resolution-impossible"),
            False,
            {"requirements.txt": "requests==2.33.1\nurllib3==1.20\n"},
        ),
        *(
            PyCase(
                f"py2_uv_{label}",
                "uv",
                [base.Step("Lock", f"uv{' --color always' if color else ''} pip compile requirements.in{extra}")],
                expect("dependency_resolution", "uv-unsatisfiable", **details),
                fix_pr,
                {"requirements.in": requirements},
                crlf=crlf,
                color=color,
            )
            for label, requirements, extra, details, fix_pr, color, crlf in (
                ("no_version", "numpy==1.26.4\ntorch==9.9.9\n", "", {"package": "torch"}, True, False, False),
                ("no_version_color", "torch==9.9.9\n", "", {"requirement": "torch==9.9.9"}, True, True, False),
                (
                    "conflict",
                    "pandas==2.2.0\nnumpy==1.20.0\n",
                    " --python-version 3.11",
                    {"requested": ["pandas==2.2.0", "numpy==1.20.0"]},
                    False,
                    False,
                    False,
                ),
                (
                    "conflict_crlf",
                    "requests==2.33.1\nurllib3<1.21\n",
                    "",
                    {"requirement": "urllib3<1.21"},
                    False,
                    False,
                    True,
                ),
            )
        ),
        *(
            PyCase(
                f"py2_poetry_{label}",
                "poetry",
                [base.Step("Lock", "poetry lock --no-interaction")],
                expect("dependency_resolution", kind, **details),
                True,
                {
                    "pyproject.toml": '[project]\nname = "mlproj"\nversion = "0.1.0"\n'
                    'requires-python = ">=3.11,<3.13"\n'
                    f"dependencies = {json.dumps(deps)}\n"
                },
                crlf=crlf,
            )
            for label, deps, kind, details, crlf in (
                ("no_match", ["requests==99.0.0"], "poetry-version-solving", {"package": "requests"}, False),
                ("no_match_crlf", ["pyyaml==99.1"], "poetry-version-solving", {"package": "pyyaml"}, True),
                ("package_not_found", ["numpy==1.20.0"], "poetry-package-not-found", {"package": "numpy"}, False),
            )
        ),
        # -- pip refused by permissions (a root-owned environment, pip run as another user)
        *(
            PyCase(
                f"py2_pip_eacces{suffix}",
                "pip",
                [
                    base.Step(
                        "Install",
                        "setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp PIP_CONFIG_FILE=/dev/null "
                        f"$RO_VENV/bin/python -m pip install --no-cache-dir {package}",
                    )
                ],
                expect("permission_denied", "pip-permission-denied"),
                False,
                crlf=bool(suffix),
            )
            for suffix, package in (("", "six"), ("_crlf", "idna==3.10"))
        ),
        # -- pytest-timeout
        PyCase(
            "py2_pytest_timeout_thread",
            "pytest-timeout",
            [base.Step("Test", "pytest --timeout=1 --timeout-method=thread tests")],
            expect("timeout", "pytest-timeout", method="thread", limit_seconds=1.0, tests=["tests/test_download.py"]),
            False,
            _tests("import time\n\n\ndef test_fetch():\n    time.sleep(5)\n", "tests/test_download.py"),
        ),
        PyCase(
            "py2_pytest_timeout_thread_ini",
            "pytest-timeout",
            [base.Step("Test", "pytest -v tests")],
            expect("timeout", "pytest-timeout", method="thread"),
            False,
            {
                "pytest.ini": INI + "timeout = 1\ntimeout_method = thread\n",
                "tests/test_io.py": "import time\n\n\ndef test_ok():\n    pass\n\n\n"
                "def test_wait():\n    time.sleep(5)\n",
            },
            crlf=True,
        ),
        PyCase(
            "py2_pytest_timeout_signal_color",
            "pytest-timeout",
            [base.Step("Test", "pytest --color=yes --timeout=1 tests")],
            expect("timeout", "pytest-timeout", method="signal", limit="1.0s"),
            False,
            _tests("import time\n\n\ndef test_fetch():\n    time.sleep(5)\n"),
            color=True,
        ),
        # -- flaky tests as their plugins report them
        *(
            PyCase(
                f"py2_rerun_fail_on_flaky{label}",
                "pytest-rerunfailures",
                [base.Step("Test", f"pytest -p no:flaky --reruns 2 --fail-on-flaky {opts} tests")],
                expect("flaky_test", "pytest-rerun-passed", **details),
                True,
                _tests(
                    "import pathlib\n\n\ndef test_endpoint(tmp_path_factory):\n"
                    "    state = pathlib.Path('flaky.state')\n"
                    "    n = int(state.read_text()) if state.exists() else 0\n"
                    "    state.write_text(str(n + 1))\n"
                    "    assert n >= 1, 'upstream returned 503'\n\n\ndef test_ok():\n    assert True\n",
                    "tests/test_api.py",
                ),
                color=color,
            )
            for label, opts, details, color in (
                ("", "-v", {"flaky_tests": ["tests/test_api.py::test_endpoint"]}, False),
                ("_quiet", "-q", {"counts": {"passed": 2, "rerun": 1}}, False),
                ("_color", "-v --color=yes", {"flaky_tests": ["tests/test_api.py::test_endpoint"]}, True),
            )
        ),
        PyCase(
            "py2_rerun_exhausted",
            "pytest-rerunfailures",
            [base.Step("Test", "pytest -p no:flaky --reruns 2 -v tests")],
            expect("test_failure", "pytest-assertion", tests=["tests/test_metrics.py::test_f1"]),
            False,
            _tests("def test_f1():\n    assert 0.61 > 0.8\n", "tests/test_metrics.py"),
        ),
        PyCase(
            "py2_flaky_plugin_passed_then_failed",
            "flaky",
            [base.Step("Test", "pytest -p no:rerunfailures tests")],
            expect("flaky_test", "flaky-plugin", flaky_tests=["tests/test_queue.py::test_gpu_queue"]),
            True,
            _tests(
                "import pathlib\n\nfrom flaky import flaky\n\n\n@flaky(max_runs=3, min_passes=2)\n"
                "def test_gpu_queue():\n    state = pathlib.Path('queue.state')\n"
                "    n = int(state.read_text()) if state.exists() else 0\n"
                "    state.write_text(str(n + 1))\n    assert n == 0, 'queue drained too early'\n",
                "tests/test_queue.py",
            ),
        ),
        PyCase(
            "py2_flaky_plugin_consistent_failure",
            "flaky",
            [base.Step("Test", "pytest -p no:rerunfailures tests")],
            expect("test_failure", "pytest-assertion", tests=["tests/test_queue.py::test_never"]),
            False,
            _tests(
                "from flaky import flaky\n\n\n@flaky(max_runs=2)\ndef test_never():\n    assert 1 == 2\n",
                "tests/test_queue.py",
            ),
            crlf=True,
        ),
        # -- one pytest run: the collection error comes first
        PyCase(
            "py2_collection_error_before_failures",
            "pytest",
            [base.Step("Test", "pytest --continue-on-collection-errors tests")],
            expect("dependency_missing", "missing-python-module", package="opencv-python", collection_error=True),
            True,
            {
                "pytest.ini": INI,
                "tests/test_a.py": "import cv2\n\n\ndef test_a():\n    assert cv2\n",
                "tests/test_b.py": "def test_b():\n    assert 1 == 2\n",
            },
        ),
        PyCase(
            "py2_collection_syntax_error_color",
            "pytest",
            [base.Step("Test", "pytest --color=yes --continue-on-collection-errors tests")],
            expect("syntax_error", "python-syntax-error", collection_error=True),
            False,
            {
                "pytest.ini": INI,
                "tests/test_a.py": "def test_a(:\n    pass\n",
                "tests/test_b.py": "def test_b():\n    assert 1 == 2\n",
            },
            color=True,
        ),
        # -- pylint
        *(
            PyCase(
                f"py2_pylint{label}",
                "pylint",
                [base.Step("Lint", f"pylint {opts} src")],
                expect(category, kind, files=["src/mod.py"]),
                False,
                {"src/mod.py": body},
                crlf=crlf,
            )
            for label, opts, body, category, kind, crlf in (
                ("", "", "import os\ndef f(x):\n    return x+undefined_name\n", "lint_failure", "pylint", False),
                (
                    "_colorized",
                    "--output-format=colorized",
                    "import os\nimport sys\n",
                    "lint_failure",
                    "pylint",
                    False,
                ),
                ("_crlf", "--disable=C", "import os\n", "lint_failure", "pylint", True),
                ("_syntax", "", "def f(:\n    pass\n", "syntax_error", "pylint-syntax", False),
            )
        ),
        # -- the first cause: a tolerated step's failure explains the later ones
        PyCase(
            "py2_first_cause_pin_then_import",
            "first-cause",
            [
                Tolerated("Install", "python -m pip install torch==1.0.0"),
                base.Step("Test", "pytest tests"),
            ],
            expect("dependency_resolution", "pip-no-matching-distribution", package="torch", first_cause=True),
            True,
            _tests("import torch\n\n\ndef test_fit():\n    assert torch\n"),
            zip=True,
        ),
        PyCase(
            "py2_first_cause_download_then_data",
            "first-cause",
            [
                Tolerated(
                    "Download data", "mkdir -p data\ncurl -sS --fail -o data/train.csv http://127.0.0.1:9/train.csv"
                ),
                base.Step("Train", "python train.py"),
            ],
            expect("network_transient", "connection-refused", first_cause=True),
            False,
            _script('import csv\n\nwith open("data/train.csv") as f:\n    rows = list(csv.reader(f))\n'),
            zip=True,
        ),
        PyCase(
            "py2_first_cause_download_timeout_then_data",
            "first-cause",
            [
                Tolerated(
                    "Download data",
                    "mkdir -p data\ncurl -sS --fail -m 2 -o data/train.csv http://127.0.0.1:$HANGING_PORT/train.csv",
                ),
                base.Step("Train", "python train.py"),
            ],
            expect("network_transient", "connection-error", first_cause=True),
            False,
            _script('import csv\n\nwith open("data/train.csv") as f:\n    rows = list(csv.reader(f))\n'),
            zip=True,
        ),
        PyCase(
            "py2_first_cause_lint_tolerated",
            "first-cause",
            [
                Tolerated("Lint", "pylint --disable=C src"),
                base.Step("Train", "python train.py"),
            ],
            expect("data_missing", "file-not-found", path="data/train.csv"),
            False,
            {
                "src/mod.py": "import os\n",
                **_script('import csv\n\nwith open("data/train.csv") as f:\n    rows = list(csv.reader(f))\n'),
            },
            zip=True,
        ),
        # -- look-alikes: real failures after noise that looks like errors
        PyCase(
            "py2_noise_then_assertion",
            "pytest",
            [base.Step("Test", "pytest tests")],
            expect("test_failure", "pytest-assertion", tests=["tests/test_model.py::test_accuracy"]),
            False,
            _tests("def test_accuracy():\n    assert 0.71 >= 0.9\n"),
        ),
        PyCase(
            "py2_noise_then_assertion_crlf_color",
            "pytest",
            [base.Step("Test", "pytest --color=yes -v tests")],
            expect("test_failure", "pytest-assertion", tests=["tests/test_model.py::test_accuracy"]),
            False,
            _tests("def test_accuracy():\n    assert 0.71 >= 0.9\n\n\ndef test_shape():\n    assert True\n"),
            crlf=True,
            color=True,
        ),
        PyCase(
            "py2_noise_success",
            "pytest",
            [base.Step("Test", "pytest tests")],
            expect("unknown", "unknown"),
            False,
            _tests("def test_ok():\n    assert True\n"),
        ),
        PyCase(
            "py2_noise_then_data_missing",
            "python",
            [base.Step("Train", "python train.py")],
            expect("data_missing", "file-not-found", path="data/features.csv"),
            False,
            _script('import csv\n\nwith open("data/features.csv") as f:\n    rows = list(csv.reader(f))\n'),
            crlf=True,
        ),
    ]
    # The same failures again without set-up noise but with colour or CRLF: tools print the same cause.
    variants: list[PyCase] = []
    for case in out:
        if case.name in VARIANTS:
            variants.append(
                PyCase(
                    case.name + "_bare",
                    case.family,
                    case.steps,
                    case.expected,
                    case.fix_pr,
                    case.files,
                    noise=False,
                    crlf=not case.crlf,
                    color=case.color,
                    own_packages=case.own_packages,
                )
            )
    return out + variants


VARIANTS = frozenset(
    {
        "py2_missing_sklearn",
        "py2_namespace_protobuf",
        "py2_moved_urllib3_appengine",
        "py2_pip_no_version_torch",
        "py2_uv_conflict",
        "py2_poetry_no_match",
        "py2_pytest_timeout_thread",
        "py2_rerun_fail_on_flaky",
        "py2_flaky_plugin_passed_then_failed",
        "py2_pylint",
        "py2_pip_eacces",
        "py2_local_src_layout_not_installed",
        "py2_collection_error_before_failures",
        "py2_tool_module_black",
    }
)


def build(case: PyCase, workspace: Path, scratch: Path) -> base.Job:
    steps: list[tuple[str, list[tuple[float, str]]]] = [
        ("Set up job", [(0.001, t) for t in base.setup_job_lines("build")])
    ]
    run = [*(_install_noise() if case.noise else []), *case.steps]
    for step in run:
        # PyPI itself, not this machine's pip configuration (local wheel folders)
        env = {**step.env, "RO_VENV": str(scratch / "ro-venv"), "HANGING_PORT": str(HANGING_PORT)}
        step = dataclasses.replace(step, env=env, pip_offline_config=True)
        if case.color:
            step = dataclasses.replace(step, env={**step.env, **COLOR})
        result = base.run_step(step, workspace, scratch)
        steps.append((step.name, base.step_lines(step, result)))
        tolerated = getattr(step, "continue_on_error", False) or isinstance(step, Tolerated)
        if result.exit_code and not tolerated:
            break
    steps.append(("Complete job", [(0.001, t) for t in base.complete_job_lines()]))
    return base.Job("build", steps)


HANGING_PORT = 0  # a loopback server that accepts and never answers (set by `main`)


@contextlib.contextmanager
def hanging_server() -> Iterator[int]:
    """A loopback TCP server that accepts connections and never answers: a download that times out."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        listener.close()


def ensure_tools(scratch: Path) -> None:
    venv = scratch / "venv"
    marker = venv / "tools.txt"
    if not (marker.exists() and marker.read_text() == "\n".join(TOOLS)):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *TOOLS], check=True)
        marker.write_text("\n".join(TOOLS))
    ro = scratch / "ro-venv"  # root-owned, readable by all: pip run as nobody cannot write to it
    if not (ro / "bin" / "pip").exists():
        clean = {"PATH": "/usr/bin:/bin", "HOME": str(scratch / "home")}
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--clear", str(ro)], check=True, env=clean)
        subprocess.run(["chmod", "-R", "a+rX", str(scratch)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/mlops-bot-corpus-py"))
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args(argv)
    scratch: Path = args.scratch.resolve()
    (scratch / "home").mkdir(parents=True, exist_ok=True)
    ensure_tools(scratch)
    expected_path = HERE / "expected.json"
    expected: dict[str, dict[str, Any]] = json.loads(expected_path.read_text())
    requirements_ci = "\n".join(line.split("==")[0] for line in TOOLS if not line.startswith("pip=")) + "\n"
    with hanging_server() as port:
        global HANGING_PORT
        HANGING_PORT = port
        run_cases(args.only, scratch, expected, requirements_ci)
    expected_path.write_text(json.dumps(dict(sorted(expected.items())), indent=2) + "\n")
    return 0


def run_cases(only: list[str] | None, scratch: Path, expected: dict[str, dict[str, Any]], requirements_ci: str) -> None:
    for case in cases():
        if only and case.name not in only:
            continue
        files = {**case.files}
        if case.noise:
            files.update({"requirements-ci.txt": requirements_ci, "ci/warmup.py": WARMUP})
        workspace = base.prepare_workspace(scratch, base.Case(case.name, [], {}, files))
        for state in workspace.glob("*.state"):
            state.unlink()
        job = build(case, workspace, scratch)
        full, per_step = job.render(base.Clock())
        text = "\ufeff" + "\n".join(full) + "\n"
        if case.crlf:
            text = text.replace("\n", "\r\n")
        (HERE / f"{case.name}.log").write_bytes(text.encode("utf-8"))
        label: dict[str, Any] = {**case.expected, "family": case.family, "fix_pr": case.fix_pr}
        if case.own_packages:
            label["own_packages"] = case.own_packages
        expected[f"{case.name}.log"] = label
        if case.zip:
            _, per_step = job.render(base.Clock())
            with zipfile.ZipFile(HERE / f"{case.name}.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("0_build.txt", text)
                for index, (name, lines) in enumerate(per_step.items(), start=1):
                    archive.writestr(f"build/{index}_{name}.txt", "\ufeff" + "\n".join(lines) + "\n")
            zipped = {**label, "details": {k: v for k, v in label["details"].items()}}
            expected[f"{case.name}.zip"] = zipped
        print(f"{case.name}.log: {len(full)} lines")


if __name__ == "__main__":
    sys.exit(main())
