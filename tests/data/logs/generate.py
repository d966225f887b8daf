"""Regenerate the CI-log corpus for the diagnosis tests by running real tools.

Every tool line in the corpus is real output captured here: pip against PyPI and against a closed
loopback port, Python tracebacks, pytest/unittest failures, ruff, mypy, black, node, npm, coreutils,
bash killing a memory hog, git against a loopback server that answers 403. The only text written by
this script is the GitHub Actions framing around it (timestamps, ``##[group]Run``, ``##[error]Process
completed with exit code N.``, the runner's own messages for timeouts, lost runners and shutdowns),
which is what GitHub adds to every job log.

Usage (from the repository root; takes about a minute, needs PyPI and the npm registry)::

    python tests/data/logs/generate.py [--scratch /tmp/mlops-bot-corpus] [--only CASE ...]

It creates a scratch venv with pinned tools under ``--scratch``, writes ``<case>.log`` files and the
run-logs zips next to this script, and ``expected.json`` (file -> expected category/kind/details subset).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT_PYTHON = HERE.parents[2] / ".venv" / "bin" / "python"  # has pyarrow, for the parquet case
TOOLS = (
    "pip==26.3",
    "pytest==9.2.0",
    "pytest-repeat==0.9.4",
    "pytest-timeout==2.4.0",
    "pytest-rerunfailures==16.7",
    "black==26.10.1",
    "ruff==0.17.6",
    "mypy==2.4.1",
    "flake8==7.5.0",
    "isort==9.0.2",
)
PRETTIER = "prettier@3.10.1"
BASE_TIME = datetime(2024, 1, 15, 10, 20, 30, tzinfo=UTC)
RUNNER_VERSION = "2.311.0"


# --------------------------------------------------------------------------------------------------
# Cases


@dataclass
class Step:
    """One ``run:`` step: a bash script run in the workspace, its output kept verbatim."""

    name: str
    script: str
    env: dict[str, str] = field(default_factory=dict)
    interrupt_after: float | None = None  # the "platform" stops the step (runner lost, job timeout)
    kill_hog: bool = False  # play the kernel OOM killer: SIGKILL the pid the step writes to hog.pid
    pip_offline_config: bool = False  # ignore this machine's pip config (local wheel folders)


@dataclass
class Case:
    name: str
    steps: list[Step]
    expected: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    platform_tail: list[str] = field(default_factory=list)  # runner messages after the last step


TRAIN_LOOP = """\
import time

for epoch in range(1, 1000):
    print(f"epoch {epoch:3d}/999 loss={1.0 / epoch:.4f} val_acc={0.5 + 0.4 * (1 - 1 / epoch):.3f}", flush=True)
    time.sleep(0.4)
"""

MEMORY_HOG = """\
import os
import time

print("loading embeddings into memory", flush=True)
blocks = [bytearray(64 * 1024 * 1024) for _ in range(3)]
with open("hog.pid", "w") as handle:
    handle.write(str(os.getpid()))
print(f"allocated {len(blocks) * 64} MiB, building index", flush=True)
time.sleep(60)
"""

LINT_TARGET = """\
import os
import sys
from typing import List
def accuracy(predictions: List[int], labels: List[int]) -> str:
    correct = sum(1 for p, l in zip(predictions, labels) if p == l)
    return correct / len(labels)
"""

PYTEST_INI = "[pytest]\naddopts = -p no:cacheprovider\n"


@dataclass(frozen=True)
class Ports:
    """Loopback servers the network and permission cases talk to."""

    forbidden: int  # answers 403, like GitHub to a token without write access
    unavailable: int  # answers 503, like an overloaded artefact store
    resetting: int  # accepts, then resets the connection


def cases(ports: Ports) -> list[Case]:
    py = "python"
    return [
        Case(
            "py_missing_module_sklearn",
            [Step("Train", f"{py} train.py")],
            {
                "category": "dependency_missing",
                "kind": "missing-python-module",
                "details": {"module": "sklearn", "package": "scikit-learn"},
            },
            files={
                "train.py": '"""Train the baseline model."""\nimport json\n\n'
                "from sklearn.linear_model import LogisticRegression\n\nmodel = LogisticRegression()\n"
            },
        ),
        Case(
            "py_missing_module_cv2_pytest",
            [Step("Test", f"{py} -m pytest tests/")],
            {
                "category": "dependency_missing",
                "kind": "missing-python-module",
                "details": {
                    "module": "cv2",
                    "package": "opencv-python",
                    "tests": ["tests/test_preprocess.py::test_resize"],
                },
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_preprocess.py": "def normalize(xs):\n    top = max(xs)\n"
                "    return [x / top for x in xs]\n\n\n"
                "def test_normalize():\n    assert normalize([1, 2, 4]) == [0.25, 0.5, 1.0]\n\n\n"
                "def test_resize():\n    import cv2\n\n    assert cv2.resize\n",
            },
        ),
        Case(
            "py_missing_module_yaml_collection",
            [Step("Test", "pytest -q")],
            {
                "category": "dependency_missing",
                "kind": "missing-python-module",
                "details": {"module": "yaml", "package": "PyYAML", "tests": ["tests/test_config.py"]},
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_config.py": "import yaml\n\n\n"
                "def test_load():\n    assert yaml.safe_load('a: 1') == {'a': 1}\n",
            },
        ),
        Case(
            "py_missing_local_package",
            [Step("Train", f"{py} -m mlproj.train --epochs 3")],
            {
                "own_packages": ["mlproj"],
                "category": "dependency_missing",
                "kind": "missing-local-module",
                "details": {"module": "mlproj", "package": None},
            },
        ),
        Case(
            "py_import_name_error",
            [Step("Evaluate", f"{py} evaluate.py")],
            {
                "category": "dependency_resolution",
                "kind": "python-import-name-error",
                "details": {"module": "pytest", "name": "approx_equal"},
            },
            files={"evaluate.py": "from pytest import approx_equal\n\nprint(approx_equal(0.1 + 0.2, 0.3))\n"},
        ),
        Case(
            "node_missing_module",
            [Step("Serve", "node server.js")],
            {
                "category": "dependency_missing",
                "kind": "missing-node-module",
                "details": {"module": "express", "package": "express"},
            },
            files={"server.js": "const express = require('express');\nexpress().listen(3000);\n"},
        ),
        Case(
            "command_not_found",
            [Step("Pull data", "dvc pull data/train.csv.dvc")],
            {"category": "dependency_missing", "kind": "missing-command", "details": {"command": "dvc"}},
        ),
        Case(
            "pip_no_matching_version",
            [Step("Install", "pip install torch==9.9.9", pip_offline_config=True)],
            {
                "category": "dependency_resolution",
                "kind": "pip-no-matching-distribution",
                "details": {"requirement": "torch==9.9.9", "package": "torch"},
            },
        ),
        Case(
            "pip_resolution_impossible",
            [Step("Install", "pip install pydantic==2.13.5 pydantic-core==2.0.0", pip_offline_config=True)],
            {
                "category": "dependency_resolution",
                "kind": "pip-resolution-impossible",
                "details": {"requirement": "pydantic-core==2.0.0"},
            },
        ),
        Case(
            "npm_no_matching_version",
            [Step("Install", "npm install --no-audit --no-fund is-number@99.0.0")],
            {
                "category": "dependency_resolution",
                "kind": "npm-no-matching-version",
                "details": {"requirement": "is-number@99.0.0"},
            },
            files={"package.json": '{"name": "dashboard", "version": "1.0.0", "private": true}\n'},
        ),
        Case(
            "pytest_assertion",
            [Step("Test", "pytest tests/")],
            {
                "category": "test_failure",
                "kind": "pytest-assertion",
                "details": {"tests": ["tests/test_model.py::test_accuracy"]},
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_model.py": "def accuracy():\n    return 0.5\n\n\ndef test_accuracy():\n"
                "    assert accuracy() > 0.9\n\n\ndef test_loss():\n    assert 0.1 < 0.2\n",
            },
        ),
        Case(
            "pytest_verbose_color",
            [Step("Test", "pytest -v --color=yes tests/")],
            {
                "category": "test_failure",
                "kind": "pytest-failure",
                "details": {"tests": ["tests/test_features.py::test_scaler", "tests/test_features.py::test_encoder"]},
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_features.py": "def test_scaler():\n    assert [0.0, 0.5, 1.0] == [0.0, 0.5, 0.9]\n\n\n"
                "def test_encoder():\n    raise ValueError('unknown category: purple')\n\n\n"
                "def test_identity():\n    assert 1 == 1\n",
            },
        ),
        Case(
            "unittest_failure",
            [Step("Test", f"{py} -m unittest discover -s tests -v")],
            {
                "category": "test_failure",
                "kind": "unittest-failure",
                "details": {"tests": ["test_shapes.TestShapes.test_output_shape"]},
            },
            files={
                "tests/test_shapes.py": "import unittest\n\n\nclass TestShapes(unittest.TestCase):\n"
                "    def test_output_shape(self):\n        self.assertEqual((32, 10), (32, 12))\n\n"
                "    def test_input_shape(self):\n        self.assertEqual((32, 3), (32, 3))\n"
            },
        ),
        Case(
            "pytest_rerun_exhausted",
            [Step("Test", "pytest --reruns 2 -v tests/")],
            {
                "category": "test_failure",
                "kind": "pytest-assertion",
                "details": {"tests": ["tests/test_metrics.py::test_f1"]},
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_metrics.py": "def test_f1():\n    assert round(2 * 0.5 * 0.4 / 0.9, 2) == 0.5\n",
            },
        ),
        Case(
            "pytest_flaky_repeat",
            [Step("Test", "pytest --count 4 -q tests/test_sampler.py")],
            {
                "category": "flaky_test",
                "kind": "inconsistent-outcome",
                "details": {
                    "tests": ["tests/test_sampler.py::test_batch[2-4]", "tests/test_sampler.py::test_batch[4-4]"]
                },
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_sampler.py": "import pathlib\n\nCOUNTER = pathlib.Path('sampler-calls')\n\n\n"
                "def test_batch():\n    calls = int(COUNTER.read_text()) if COUNTER.exists() else 0\n"
                "    COUNTER.write_text(str(calls + 1))\n    assert calls % 2 == 0, 'shuffled batch came back empty'\n",
            },
        ),
        Case(
            "pytest_retry_flaky",
            [Step("Test", "for attempt in 1 2; do\n  pytest -v tests/ && break\ndone")],
            {
                "category": "flaky_test",
                "kind": "inconsistent-outcome",
                "details": {"flaky_tests": ["tests/test_api.py::test_predict_endpoint"]},
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_api.py": "import pathlib\n\nRUNS = pathlib.Path('suite-runs')\n\n\n"
                "def test_health():\n    runs = int(RUNS.read_text()) if RUNS.exists() else 0\n"
                "    RUNS.write_text(str(runs + 1))\n    assert runs != 0, 'model server not ready'\n\n\n"
                "def test_predict_endpoint():\n    assert int(RUNS.read_text()) != 2, 'timeout waiting for /predict'\n",
            },
        ),
        Case(
            "python_syntax_error",
            [Step("Train", f"{py} train.py")],
            {
                "category": "syntax_error",
                "kind": "python-syntax-error",
                "details": {"line": 3, "exception": "SyntaxError"},
            },
            files={"train.py": "import json\n\ndef train(config:\n    return json.dumps(config)\n"},
        ),
        Case(
            "pytest_collection_syntax_error",
            [Step("Test", "pytest")],
            {
                "category": "syntax_error",
                "kind": "python-syntax-error",
                "details": {"tests": ["tests/test_pipeline.py"], "line": 4},
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_pipeline.py": "import math\n\n\ndef test_pipeline(:\n    assert math.pi\n",
            },
        ),
        Case(
            "ruff_check",
            [Step("Lint", "ruff check src/")],
            {"category": "lint_failure", "kind": "ruff", "details": {"tool": "ruff", "files": ["src/metrics.py"]}},
            files={"src/metrics.py": LINT_TARGET},
        ),
        Case(
            "ruff_format",
            [Step("Format", "ruff format --check src/")],
            {"category": "lint_failure", "kind": "ruff-format", "details": {"count": 1}},
            files={"src/metrics.py": LINT_TARGET},
        ),
        Case(
            "black_check",
            [Step("Format", "black --check src/")],
            {"category": "lint_failure", "kind": "black", "details": {"count": 1, "files": ["src/metrics.py"]}},
            files={"src/metrics.py": LINT_TARGET},
        ),
        Case(
            "mypy",
            [Step("Type check", "mypy src/")],
            {"category": "lint_failure", "kind": "mypy", "details": {"count": 1, "files": ["src/metrics.py"]}},
            files={"src/metrics.py": LINT_TARGET},
        ),
        Case(
            "command_timeout",
            [Step("Smoke", "timeout 1 sleep 5")],
            {"category": "timeout", "kind": "command-timeout", "details": {"limit": "1", "exit_code": 124}},
        ),
        Case(
            "command_timeout_verbose",
            [Step("Train", f"timeout -v 2 {py} train.py")],
            {"category": "timeout", "kind": "command-timeout", "details": {"limit": "2", "signal": "TERM"}},
            files={"train.py": TRAIN_LOOP},
        ),
        Case(
            "pytest_timeout",
            [Step("Test", "pytest --timeout 1 tests/")],
            {
                "category": "timeout",
                "kind": "pytest-timeout",
                "details": {"limit": "1.0s", "tests": ["tests/test_download.py::test_fetch_weights"]},
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_download.py": "import time\n\n\ndef test_fetch_weights():\n    time.sleep(5)\n",
            },
        ),
        Case(
            "job_timeout",
            [Step("Train", f"{py} train.py", interrupt_after=2.5)],
            {"category": "timeout", "kind": "job-timeout", "details": {"limit": "360 minutes"}},
            files={"train.py": TRAIN_LOOP},
            platform_tail=[
                "##[error]The job running on runner GitHub Actions 2 has exceeded the maximum execution time of"
                " 360 minutes.",
                "##[error]The operation was canceled.",
            ],
        ),
        Case(
            "pip_index_unreachable",
            [
                Step(
                    "Install",
                    "pip install --retries 2 --timeout 2 --index-url http://127.0.0.1:9/simple requests",
                    pip_offline_config=True,
                )
            ],
            {
                "category": "network_transient",
                "kind": "pip-index-unreachable",
                "details": {"requirement": "requests"},
            },
        ),
        Case(
            "curl_connection_refused",
            [Step("Download data", "curl -sSfL -o data/train.csv http://127.0.0.1:9/datasets/train.csv")],
            {
                "category": "network_transient",
                "kind": "connection-refused",
                "details": {"host": "127.0.0.1", "port": "9"},
            },
        ),
        Case(
            "npm_registry_unreachable",
            [
                Step(
                    "Install",
                    "npm install --no-audit --no-fund --registry http://127.0.0.1:9/ --fetch-retries 1"
                    " --fetch-retry-mintimeout 100 --fetch-retry-maxtimeout 200 is-number",
                )
            ],
            {"category": "network_transient", "kind": "connection-refused", "details": {}},
            files={"package.json": '{"name": "dashboard", "version": "1.0.0", "private": true}\n'},
        ),
        Case(
            "git_clone_unreachable",
            [Step("Fetch models", "git clone http://127.0.0.1:9/org/models.git")],
            {"category": "network_transient", "kind": "connection-refused", "details": {"port": "9"}},
        ),
        Case(
            "oom_killed",
            [Step("Build index", f"{py} build_index.py", kill_hog=True)],
            {"category": "out_of_memory", "kind": "oom-killed", "details": {"exit_code": 137}},
            files={"build_index.py": MEMORY_HOG},
        ),
        Case(
            "pytest_oom_killed",
            [Step("Test", "pytest -v tests/", kill_hog=True)],
            {"category": "out_of_memory", "kind": "oom-killed", "details": {"exit_code": 137}},
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_index.py": "import runpy\n\n\ndef test_small():\n    assert True\n\n\n"
                "def test_full_index():\n    runpy.run_path('build_index.py')\n",
                "build_index.py": MEMORY_HOG,
            },
        ),
        Case(
            "python_memory_error",
            [Step("Train", f"{py} train.py")],
            {"category": "out_of_memory", "kind": "python-memory-error", "details": {}},
            files={
                "train.py": "rows = 10**15\nprint(f'allocating feature matrix for {rows} rows', flush=True)\n"
                "matrix = bytearray(rows)\n"
            },
        ),
        Case(
            "disk_full",
            [Step("Save", f"{py} save_checkpoint.py", env={"CHECKPOINT_PATH": "/dev/full"})],
            {"category": "infrastructure", "kind": "disk-full", "details": {}},
            files={
                "save_checkpoint.py": "import os\n\npath = os.environ['CHECKPOINT_PATH']\n"
                "print(f'saving checkpoint to {path}', flush=True)\n"
                "with open(path, 'wb') as handle:\n    handle.write(b'\\0' * (1 << 20))\n"
            },
        ),
        Case(
            "runner_lost",
            [Step("Train", f"{py} train.py", interrupt_after=2.5)],
            {"category": "infrastructure", "kind": "runner-lost", "details": {}},
            files={"train.py": TRAIN_LOOP},
            platform_tail=[
                "##[error]The hosted runner: GitHub Actions 7 lost communication with the server. Anything in your"
                " workflow that terminates the runner process, starves it for CPU/Memory, or blocks its network"
                " access can cause this error.",
            ],
        ),
        Case(
            "runner_shutdown",
            [Step("Train", f"{py} train.py", interrupt_after=2.5)],
            {"category": "infrastructure", "kind": "runner-shutdown", "details": {}},
            files={"train.py": TRAIN_LOOP},
            platform_tail=[
                "##[error]The runner has received a shutdown signal. This can happen when the runner service is"
                " stopped, or a manually started runner is canceled.",
                "##[error]The operation was canceled.",
            ],
        ),
        Case(
            "data_csv_missing",
            [Step("Train", f"{py} train.py")],
            {
                "category": "data_missing",
                "kind": "file-not-found",
                "details": {"path": "data/train.csv", "is_data": True},
            },
            files={
                "train.py": "import csv\n\nwith open('data/train.csv', newline='') as handle:\n"
                "    rows = list(csv.DictReader(handle))\nprint(len(rows))\n"
            },
        ),
        Case(
            "data_parquet_missing",
            [Step("Features", f"{PROJECT_PYTHON} features.py")],
            {
                "category": "data_missing",
                "kind": "file-not-found",
                "details": {"path": "data/features.parquet"},
            },
            files={
                "features.py": "import pyarrow.parquet as pq\n\ntable = pq.read_table('data/features.parquet')\n"
                "print(table.num_rows)\n"
            },
        ),
        Case(
            "pytest_data_missing",
            [Step("Test", "pytest -q tests/")],
            {
                "category": "data_missing",
                "kind": "file-not-found",
                "details": {"path": "data/holdout.csv", "tests": ["tests/test_eval.py::test_holdout_accuracy"]},
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_eval.py": "def test_holdout_accuracy():\n    with open('data/holdout.csv') as handle:\n"
                "        assert handle.readline()\n",
            },
        ),
        Case(
            "coreutils_data_missing",
            [Step("Check data", "wc -l data/labels.tsv")],
            {
                "category": "data_missing",
                "kind": "file-not-found",
                "details": {"path": "data/labels.tsv"},
            },
        ),
        Case(
            "config_file_missing",
            [Step("Train", f"{py} train.py")],
            {
                "category": "data_missing",
                "kind": "file-not-found",
                "details": {"path": "config/settings.toml", "is_data": False},
            },
            files={
                "train.py": "import tomllib\n\nwith open('config/settings.toml', 'rb') as f:\n    tomllib.load(f)\n"
            },
        ),
        Case(
            "git_push_403",
            [
                Step(
                    "Publish report",
                    "git -c user.name=bot -c user.email=bot@example.invalid commit -q --allow-empty -m report\n"
                    f"git push http://127.0.0.1:{ports.forbidden}/org/mlproj.git HEAD:gh-pages",
                )
            ],
            {"category": "permission_denied", "kind": "git-http-403", "details": {"status": 403}},
        ),
        Case(
            "curl_http_403",
            [Step("Fetch model", f"curl -fsSL -o models/model.onnx http://127.0.0.1:{ports.forbidden}/models/v3.onnx")],
            {"category": "permission_denied", "kind": "http-403", "details": {"status": 403}},
        ),
        Case(
            "curl_http_503",
            [Step("Fetch data", f"curl -fsSL -o data/train.csv http://127.0.0.1:{ports.unavailable}/train.csv")],
            {"category": "network_transient", "kind": "http-5xx", "details": {"status": "503"}},
        ),
        Case(
            "curl_connection_reset",
            [Step("Fetch data", f"curl -sSL -o data/train.csv http://127.0.0.1:{ports.resetting}/train.csv")],
            {"category": "network_transient", "kind": "connection-error", "details": {}},
        ),
        Case(
            "python_missing_script",
            [Step("Train", f"{py} scripts/train_model.py --epochs 3")],
            {
                "category": "data_missing",
                "kind": "file-not-found",
                "details": {"path": "scripts/train_model.py", "is_data": False},
            },
        ),
        Case(
            "node_heap_oom",
            [
                Step(
                    "Build dashboard",
                    "node --max-old-space-size=16 -e "
                    '"const rows = []; while (true) rows.push(new Array(1e5).fill(0));"',
                )
            ],
            {"category": "out_of_memory", "kind": "node-heap-oom", "details": {}},
        ),
        Case(
            "allocation_failed",
            [Step("Embed", f"{py} embed.py")],
            {"category": "out_of_memory", "kind": "allocation-failed", "details": {}},
            files={"embed.py": "import mmap\n\nprint('mapping embedding table', flush=True)\nmmap.mmap(-1, 1 << 50)\n"},
        ),
        Case(
            "flake8",
            [Step("Lint", "flake8 src/")],
            {"category": "lint_failure", "kind": "flake8", "details": {"files": ["src/metrics.py"]}},
            files={"src/metrics.py": LINT_TARGET},
        ),
        Case(
            "isort_check",
            [Step("Lint", "isort --check-only src/")],
            {"category": "lint_failure", "kind": "isort", "details": {"files": ["src/metrics.py"]}},
            files={"src/metrics.py": "import sys\nimport os\n\nprint(os.sep, sys.argv)\n"},
        ),
        Case(
            "prettier_check",
            [
                Step("Install", f"npm install --no-audit --no-fund --save-dev {PRETTIER}"),
                Step("Format", "npx prettier --check src/"),
            ],
            {"category": "lint_failure", "kind": "prettier", "details": {"files": ["src/app.js"]}},
            files={
                "package.json": '{"name": "dashboard", "version": "1.0.0", "private": true}\n',
                "src/app.js": "const  charts = [ 'loss','accuracy' ]\nexport default charts\n",
            },
        ),
        Case(
            "npm_eresolve",
            [Step("Install", "npm install --no-audit --no-fund react@18.3.1 react-dom@17.0.2")],
            {
                "category": "dependency_resolution",
                "kind": "npm-eresolve",
                "details": {"found": "react@18.3.1", "requirement": "react-dom@17.0.2"},
            },
            files={"package.json": '{"name": "dashboard", "version": "1.0.0", "private": true}\n'},
        ),
        Case(
            "step_timeout",
            [Step("Train", f"{py} train.py", interrupt_after=2.5)],
            {"category": "timeout", "kind": "step-timeout", "details": {}},
            files={"train.py": TRAIN_LOOP},
            platform_tail=["##[error]The action has timed out."],
        ),
        Case(
            "python_permission_error",
            [Step("Export", "setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 export.py")],
            {
                "category": "permission_denied",
                "kind": "python-permission-error",
                "details": {"path": "models/model.pkl"},
            },
            files={
                "export.py": "import pickle\n\nwith open('models/model.pkl', 'wb') as handle:\n"
                "    pickle.dump({'weights': [0.1, 0.2]}, handle)\n",
                "models/.keep": "",
            },
        ),
        Case(
            "exec_permission_denied",
            [Step("Train", "./scripts/train.sh")],
            {
                "category": "permission_denied",
                "kind": "exec-permission-denied",
                "details": {"path": "./scripts/train.sh"},
            },
            files={"scripts/train.sh": "#!/usr/bin/env bash\npython train.py\n"},
        ),
        Case(
            "unknown_exit",
            [
                Step(
                    "Validate",
                    f"{py} -c \"import sys; print('validation accuracy 0.61 is below the threshold 0.80');"
                    ' sys.exit(3)"',
                )
            ],
            {"category": "unknown", "kind": "unknown", "details": {"exit_code": 3}},
        ),
        Case(
            "success",
            [Step("Test", "pytest -q tests/")],
            {"category": "unknown", "kind": "unknown", "details": {}},
            files={"pytest.ini": PYTEST_INI, "tests/test_ok.py": "def test_ok():\n    assert True\n"},
        ),
        Case(
            "network_warning_then_test_failure",
            [
                Step(
                    "Warm cache",
                    "curl -sS http://127.0.0.1:9/cache/warm || echo 'cache server unavailable, continuing'",
                ),
                Step("Test", "pytest tests/"),
            ],
            {
                "category": "test_failure",
                "kind": "pytest-assertion",
                "details": {"tests": ["tests/test_model.py::test_accuracy"]},
            },
            files={
                "pytest.ini": PYTEST_INI,
                "tests/test_model.py": "def test_accuracy():\n    assert 0.5 > 0.9\n",
            },
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Running steps for real


class Clock:
    """GitHub-style timestamps: a fixed base so reruns differ only where the tools' output differs."""

    def __init__(self) -> None:
        self.now = BASE_TIME

    def stamp(self, advance: float = 0.0001) -> str:
        self.now += timedelta(seconds=advance)
        return self.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.now.microsecond * 10:07d}Z"


@dataclass
class StepResult:
    output: list[str]
    exit_code: int | None  # None when the platform stopped the step
    duration: float


def run_step(step: Step, workspace: Path, scratch: Path) -> StepResult:
    temp = scratch / "runner" / "work" / "_temp"
    temp.mkdir(parents=True, exist_ok=True)
    script = temp / f"{step.name.lower().replace(' ', '-')}.sh"
    script.write_text(step.script + "\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_FIND_LINKS", "VIRTUAL_ENV"))}
    env.update(
        PATH=f"{scratch / 'venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        HOME=str(scratch / "home"),
        CI="true",
        GITHUB_ACTIONS="true",
        PYTHONDONTWRITEBYTECODE="1",
        npm_config_cache=str(scratch / "npm-cache"),
        npm_config_update_notifier="false",
        **step.env,
    )
    if step.pip_offline_config:
        env["PIP_CONFIG_FILE"] = os.devnull
    started = time.monotonic()
    process = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    killer: threading.Thread | None = None
    if step.kill_hog:
        killer = threading.Thread(target=_oom_killer, args=(workspace / "hog.pid", process), daemon=True)
        killer.start()
    try:
        out, _ = process.communicate(timeout=step.interrupt_after or 300)
        exit_code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # our own session: the step's process group only
        out, _ = process.communicate()
        exit_code = None
    if killer is not None:
        killer.join(timeout=5)
    text = out.decode("utf-8", "replace")
    return StepResult(text.splitlines(), exit_code, time.monotonic() - started)


def _oom_killer(pid_file: Path, process: subprocess.Popen[bytes]) -> None:
    """Wait for the hog to report its pid, then SIGKILL it as the kernel's OOM killer would."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if pid_file.exists() and pid_file.read_text().strip():
            time.sleep(0.3)
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
            return
        time.sleep(0.05)


@contextmanager
def status_server(status: int) -> Iterator[int]:
    """A loopback HTTP server answering `status` to every request."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def resetting_server() -> Iterator[int]:
    """A loopback TCP server that reads the request, then aborts the connection (RST, not FIN)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(4096)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


# --------------------------------------------------------------------------------------------------
# GitHub Actions framing


def setup_job_lines(job: str) -> list[str]:
    return [
        f"Current runner version: '{RUNNER_VERSION}'",
        "##[group]Operating System",
        "Ubuntu",
        "22.04.3",
        "LTS",
        "##[endgroup]",
        "##[group]Runner Image",
        "Image: ubuntu-22.04",
        "Version: 20240107.1.0",
        "##[endgroup]",
        "##[group]GITHUB_TOKEN Permissions",
        "Contents: read",
        "Metadata: read",
        "##[endgroup]",
        "Secret source: Actions",
        "Prepare workflow directory",
        "Prepare all required actions",
        f"Complete job name: {job}",
    ]


def complete_job_lines() -> list[str]:
    return ["Cleaning up orphan processes"]


def step_lines(step: Step, result: StepResult) -> list[tuple[float, str]]:
    """The step as GitHub logs it: the Run group (script echoed in cyan), the output, the exit code."""
    script = step.script.splitlines()
    lines: list[tuple[float, str]] = [(0.0001, f"##[group]Run {script[0]}")]
    lines += [(0.0001, f"\x1b[36;1m{line}\x1b[0m") for line in script]
    lines.append((0.0001, "shell: /usr/bin/bash -e {0}"))
    lines.append((0.0001, "##[endgroup]"))
    spacing = result.duration / max(1, len(result.output))
    lines += [(spacing, line) for line in result.output]
    if result.exit_code:
        lines.append((0.001, f"##[error]Process completed with exit code {result.exit_code}."))
    return lines


@dataclass
class Job:
    name: str
    steps: list[tuple[str, list[tuple[float, str]]]]  # (step name, timed lines)

    def render(self, clock: Clock) -> tuple[list[str], dict[str, list[str]]]:
        """The full job log and the per-step logs, sharing timestamps like GitHub's."""
        full: list[str] = []
        per_step: dict[str, list[str]] = {}
        for name, timed in self.steps:
            stamped = [f"{clock.stamp(advance)} {text}" for advance, text in timed]
            full += stamped
            per_step[name] = stamped
        return full, per_step


def build_job(case: Case, workspace: Path, scratch: Path, job_name: str = "build") -> Job:
    steps: list[tuple[str, list[tuple[float, str]]]] = [("Set up job", [(0.001, t) for t in setup_job_lines(job_name)])]
    stopped = False
    for step in case.steps:
        result = run_step(step, workspace, scratch)
        steps.append((step.name, step_lines(step, result)))
        if result.exit_code or result.exit_code is None:
            stopped = True
            break
    tail = [(0.001, text) for text in case.platform_tail]
    if tail:
        name, timed = steps[-1]
        steps[-1] = (name, timed + tail)
    if not stopped or not case.platform_tail:
        steps.append(("Complete job", [(0.001, t) for t in complete_job_lines()]))
    return Job(job_name, steps)


def prepare_workspace(scratch: Path, case: Case) -> Path:
    workspace = scratch / "runner" / "work" / "mlproj" / "mlproj"
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(workspace)], check=True)
    for relative, content in case.files.items():
        path = workspace / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return workspace


def ensure_venv(scratch: Path) -> None:
    venv = scratch / "venv"
    marker = venv / "tools.txt"
    if marker.exists() and marker.read_text() == "\n".join(TOOLS):
        return
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *TOOLS], check=True)
    marker.write_text("\n".join(TOOLS))


def write_log(path: Path, lines: list[str]) -> None:
    # GitHub's raw logs start with a byte-order mark and use LF line ends.
    path.write_bytes(("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"))


# --------------------------------------------------------------------------------------------------
# Zips in GitHub's run-logs layout


def write_zip(path: Path, jobs: list[Job]) -> None:
    clock = Clock()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, job in enumerate(jobs):
            full, per_step = job.render(clock)
            archive.writestr(f"{number}_{job.name}.txt", "\ufeff" + "\n".join(full) + "\n")
            for index, (name, lines) in enumerate(per_step.items(), start=1):
                archive.writestr(f"{job.name}/{index}_{name}.txt", "\ufeff" + "\n".join(lines) + "\n")


def zip_cases(scratch: Path, ports: Ports) -> dict[str, dict[str, Any]]:
    by_name = {case.name: case for case in cases(ports)}
    expected: dict[str, dict[str, Any]] = {}

    # One job: install, then a test step failing on a missing module.
    test_case = Case(
        "zip",
        [
            Step("Install", "python -m pip --version"),
            Step("Test", "python -m pytest tests/"),
        ],
        {},
        files=by_name["py_missing_module_cv2_pytest"].files,
    )
    job = build_job(test_case, prepare_workspace(scratch, test_case), scratch)
    write_zip(HERE / "run_logs_missing_module.zip", [job])
    expected["run_logs_missing_module.zip"] = {
        "category": "dependency_missing",
        "kind": "missing-python-module",
        "step": "Test",
        "details": {"module": "cv2", "package": "opencv-python", "log_member": "build/3_Test.txt"},
    }

    # Two jobs: tests pass, lint fails; the failing step is in the second job.
    passing = Case("tests", [Step("Test", "pytest -q tests/")], {}, files=by_name["success"].files)
    linting = Case("lint", [Step("Ruff", "ruff check src/")], {}, files=by_name["ruff_check"].files)
    jobs = [
        build_job(passing, prepare_workspace(scratch, passing), scratch, "test"),
        build_job(linting, prepare_workspace(scratch, linting), scratch, "lint"),
    ]
    write_zip(HERE / "run_logs_two_jobs_lint.zip", jobs)
    expected["run_logs_two_jobs_lint.zip"] = {
        "category": "lint_failure",
        "kind": "ruff",
        "step": "Ruff",
        "details": {"files": ["src/metrics.py"], "log_member": "lint/2_Ruff.txt"},
    }

    # Runner lost: no step has an error line; only the job log carries GitHub's message.
    lost = by_name["runner_lost"]
    job = build_job(lost, prepare_workspace(scratch, lost), scratch, "train")
    last_name, last_lines = job.steps[-1]
    job_only_tail = [line for line in last_lines if line[1] not in lost.platform_tail]
    clock = Clock()
    full, _ = job.render(clock)
    job.steps[-1] = (last_name, job_only_tail)
    _, per_step = Job(job.name, job.steps).render(Clock())
    path = HERE / "run_logs_runner_lost.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("0_train.txt", "\ufeff" + "\n".join(full) + "\n")
        for index, (name, lines) in enumerate(per_step.items(), start=1):
            archive.writestr(f"train/{index}_{name}.txt", "\ufeff" + "\n".join(lines) + "\n")
    expected["run_logs_runner_lost.zip"] = {
        "category": "infrastructure",
        "kind": "runner-lost",
        "details": {"log_member": "0_train.txt"},
    }
    return expected


# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/mlops-bot-corpus"))
    parser.add_argument("--only", nargs="*", help="regenerate only these cases (expected.json is merged)")
    args = parser.parse_args(argv)
    scratch: Path = args.scratch.resolve()
    (scratch / "home").mkdir(parents=True, exist_ok=True)
    ensure_venv(scratch)
    expected_path = HERE / "expected.json"
    expected: dict[str, dict[str, Any]] = json.loads(expected_path.read_text()) if args.only else {}
    with status_server(403) as forbidden, status_server(503) as unavailable, resetting_server() as resetting:
        ports = Ports(forbidden=forbidden, unavailable=unavailable, resetting=resetting)
        for case in cases(ports):
            if args.only and case.name not in args.only:
                continue
            workspace = prepare_workspace(scratch, case)
            if case.name == "exec_permission_denied":
                (workspace / "scripts" / "train.sh").chmod(0o644)
            job = build_job(case, workspace, scratch)
            full, _ = job.render(Clock())
            write_log(HERE / f"{case.name}.log", full)
            expected[f"{case.name}.log"] = case.expected
            print(f"{case.name}.log: {len(full)} lines")
        if not args.only or "zips" in args.only:
            expected.update(zip_cases(scratch, ports))
            print("zips written")
    expected_path.write_text(json.dumps(dict(sorted(expected.items())), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    sys.exit(main())
